package dev.zeebeambient.enforcer.bootstrap;

import dev.zeebeambient.enforcer.config.EnforcerConfig;
import dev.zeebeambient.enforcer.detection.Target;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.ManagedFieldsEntry;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * {@code enforcer.bootstrap.mode=cleanup}: removes exactly what this enforcer manages. An object
 * is ours when it carries our {@code managed-by} label and our field manager: deleted when no
 * other manager owns fields in it, otherwise only our fields are released (an empty apply), so
 * a Service someone else also manages survives. Foreign objects are never touched.
 */
public final class Cleanup {

    public record Outcome(String ref, Result result, String detail) {
    }

    /** What cleanup did to one object. */
    public enum Result implements dev.zeebeambient.enforcer.tags.Tagged {
        /** ours alone: deleted */
        DELETED,
        /** not ours (or kept because it would be invalid without our fields) */
        KEPT,
        /** co-owned: only our fields were released */
        RELEASED,
        /** nothing there */
        ABSENT,
        ERROR;
    }

    private final KubernetesClient client;
    private final EnforcerConfig config;

    public Cleanup(KubernetesClient client, EnforcerConfig config) {
        this.client = client;
        this.config = config;
    }

    /**
     * Our binding fields on each chart Service (bind-chart-service, whether or not it is on now),
     * released where our field manager still owns fields there: never deleted (Helm owns the
     * Service), and on its own, so that nothing else failing (a missing CRD, no RBAC for the
     * DestinationRule) keeps the Service pointing at a waypoint that cleanup then deletes.
     */
    public List<Outcome> releaseChartServices() {
        String manager = config.bootstrap().fieldManager();
        List<Outcome> out = new ArrayList<>();
        for (Target t : config.targets()) {
            String name = config.chartServiceName(t);
            if (name.equals(t.name())) {
                continue;
            }
            String ref = "Service " + t.namespace() + "/" + name;
            try {
                var chart = client.services().inNamespace(t.namespace()).withName(name).get();
                if (chart == null || chart.getMetadata().getManagedFields() == null
                        || chart.getMetadata().getManagedFields().stream().noneMatch(f -> manager.equals(f.getManager()))) {
                    continue; // nothing of ours there
                }
                GenericKubernetesResource empty = new GenericKubernetesResource();
                empty.setApiVersion("v1");
                empty.setKind("Service");
                empty.setMetadata(new ObjectMetaBuilder().withName(name).withNamespace(t.namespace()).build());
                client.resource(empty).fieldManager(manager).serverSideApply();
                out.add(new Outcome(ref, Result.RELEASED, "the chart's Service: our waypoint binding removed, the rest kept"));
            } catch (KubernetesClientException e) {
                out.add(new Outcome(ref, Result.ERROR, "our waypoint binding (istio.io/use-waypoint, appProtocol) is still on it and "
                        + "could not be released (HTTP " + e.getCode() + ": " + e.getMessage() + "); grant the bind-chart-service Role "
                        + "again, or remove it yourself: kubectl -n " + t.namespace() + " label service " + name
                        + " istio.io/use-waypoint-"));
            }
        }
        return out;
    }

    /** The DestinationRule bind-chart-service writes for each chart Service's host, where it exists (each read on its own). */
    private List<GenericKubernetesResource> chartDestinationRules(List<Outcome> out) {
        List<GenericKubernetesResource> candidates = new ArrayList<>();
        for (Target t : config.targets()) {
            String name = config.chartServiceName(t);
            if (name.equals(t.name())) {
                continue;
            }
            GenericKubernetesResource dr = DesiredState.destinationRule(config.bootstrap(), new Target(t.namespace(), name, t.port()),
                    config.clusterDomain());
            try {
                if (client.resource(dr).get() != null) {
                    candidates.add(dr);
                }
            } catch (KubernetesClientException e) {
                // 404: kind not installed; 403: without bind-chart-service's RBAC nothing of ours can be there
                if (!kindNotInstalled(e) && e.getCode() != 403) {
                    out.add(new Outcome(DesiredState.ref(dr), Result.ERROR, "HTTP " + e.getCode() + ": " + e.getMessage()));
                }
            }
        }
        return candidates;
    }

    /** bind-chart-service turned off: release the chart Services and remove their DestinationRules (what cleanup does for them). */
    /** 404, or fabric8's discovery not knowing the kind at all (its CRD was never installed, or is gone already). */
    static boolean kindNotInstalled(KubernetesClientException e) {
        return e.getCode() == 404 || (e.getCode() <= 0 && String.valueOf(e.getMessage()).contains("Could not find a registered handler"));
    }

    public List<Outcome> unbindChartServices() {
        List<Outcome> out = releaseChartServices();
        clean(chartDestinationRules(out), out, false);
        return out;
    }

    /** The objects of {@code enforcer.bootstrap.retired}, as references to look up (apiVersion by kind, as DesiredState writes them). */
    List<GenericKubernetesResource> retiredObjects() {
        List<GenericKubernetesResource> out = new ArrayList<>();
        for (String r : config.bootstrap().retired().orElse(List.of())) {
            String[] kindRef = r.trim().split(" ", 2);
            if (kindRef.length != 2 || kindRef[1].indexOf('/') < 0) {
                continue; // ConfigRules refused it at start
            }
            String apiVersion = switch (kindRef[0]) {
                case "Gateway" -> "gateway.networking.k8s.io/v1";
                case "DestinationRule" -> "networking.istio.io/v1";
                case "Service", "ConfigMap" -> "v1";
                default -> null;
            };
            if (apiVersion == null) {
                continue;
            }
            GenericKubernetesResource o = new GenericKubernetesResource();
            o.setApiVersion(apiVersion);
            o.setKind(kindRef[0]);
            String[] nsName = kindRef[1].split("/", 2);
            o.setMetadata(new ObjectMetaBuilder().withNamespace(nsName[0]).withName(nsName[1]).build());
            out.add(o);
        }
        return out;
    }

    /**
     * Deletes what an earlier configuration had the bootstrapper write under names this one no longer uses (a renamed
     * target, waypoint or defaults ConfigMap), where it is still there and ours; shared ones lose only our fields.
     */
    public List<Outcome> retire() {
        List<Outcome> out = new ArrayList<>();
        clean(retiredObjects(), out, false);
        return out;
    }

    /**
     * The leader Lease, once nothing runs any more (after {@link ScaleDown}): an uninstall leaves no Lease behind. A
     * replica still holding it keeps it (conditional on the holder being empty or its term over).
     */
    public Outcome deleteLease(String namespace, String name, java.time.Instant now) {
        String ref = "Lease " + namespace + "/" + name;
        try {
            var lease = client.leases().inNamespace(namespace).withName(name).get();
            if (lease == null) {
                return new Outcome(ref, Result.ABSENT, null);
            }
            var held = ScaleDown.leaseHeld(lease, now);
            if (held.isPresent()) {
                return new Outcome(ref, Result.KEPT, held.get());
            }
            client.leases().inNamespace(namespace).withName(name).delete();
            return new Outcome(ref, Result.DELETED, null);
        } catch (KubernetesClientException e) {
            return new Outcome(ref, Result.ERROR, "HTTP " + e.getCode() + ": " + e.getMessage());
        }
    }

    /**
     * The self-managed TLS Secret (with the CA's key): written by the enforcer, not by the installer, so nobody else
     * removes it. Only when it carries our managed-by label.
     */
    public Outcome deleteSelfManagedSecret(String namespace) {
        String name = config.selfManagedTls().secretName();
        String ref = "Secret " + namespace + "/" + name;
        try {
            var secret = client.secrets().inNamespace(namespace).withName(name).get();
            if (secret == null) {
                return new Outcome(ref, Result.ABSENT, null);
            }
            var labels = secret.getMetadata().getLabels();
            if (labels == null || !config.bootstrap().fieldManager().equals(labels.get(DesiredState.MANAGED_BY))) {
                return new Outcome(ref, Result.KEPT, "not managed by " + config.bootstrap().fieldManager());
            }
            client.secrets().inNamespace(namespace).withName(name).delete();
            return new Outcome(ref, Result.DELETED, "the enforcer's CA and serving certificate");
        } catch (KubernetesClientException e) {
            return new Outcome(ref, Result.ERROR, "HTTP " + e.getCode() + ": " + e.getMessage());
        }
    }

    /** {@code enforcer.bootstrap.cleanup-delete}: the install's own leftovers in {@code namespace} (test hook objects). */
    public List<Outcome> deleteLeftovers(String namespace) {
        List<Outcome> out = new ArrayList<>();
        for (String entry : config.bootstrap().cleanupDelete().orElse(List.of())) {
            String[] kindName = entry.trim().split(" ", 2);
            if (kindName.length != 2) {
                continue;
            }
            String ref = kindName[0] + " " + namespace + "/" + kindName[1];
            try {
                boolean deleted = switch (kindName[0]) {
                    case "Pod" -> !client.pods().inNamespace(namespace).withName(kindName[1]).withGracePeriod(0).delete().isEmpty();
                    case "ConfigMap" -> !client.configMaps().inNamespace(namespace).withName(kindName[1]).delete().isEmpty();
                    default -> false;
                };
                out.add(new Outcome(ref, deleted ? Result.DELETED : Result.ABSENT, null));
            } catch (KubernetesClientException e) {
                out.add(new Outcome(ref, Result.ERROR, "HTTP " + e.getCode() + ": " + e.getMessage()));
            }
        }
        return out;
    }

    public List<Outcome> run() {
        // every object we could have written, whatever the selectors were
        Map<Target, Map<String, String>> any = config.targets().stream()
                .collect(Collectors.toMap(t -> t, t -> Map.of("any", "any")));
        // the chart Services first: while one still points at the waypoint, the waypoint stays
        List<Outcome> out = releaseChartServices();
        boolean chartStillBound = out.stream().anyMatch(o -> o.result() == Result.ERROR);
        List<GenericKubernetesResource> candidates = new ArrayList<>(DesiredState.build(config, any));
        candidates.addAll(chartDestinationRules(out));
        candidates.addAll(retiredObjects());
        clean(candidates, out, chartStillBound);
        return out;
    }

    private void clean(List<GenericKubernetesResource> candidates, List<Outcome> out, boolean keepWaypoint) {
        String manager = config.bootstrap().fieldManager();
        for (GenericKubernetesResource desired : candidates) {
            if (keepWaypoint && desired.getKind().equals("Gateway")) {
                out.add(new Outcome(DesiredState.ref(desired), Result.KEPT, "a chart Service still points at it "
                        + "(istio.io/use-waypoint) and its binding could not be released; run cleanup again once it is"));
                continue;
            }
            String ref = DesiredState.ref(desired);
            try {
                GenericKubernetesResource live = client.resource(desired).get();
                if (live == null) {
                    out.add(new Outcome(ref, Result.ABSENT, null));
                    continue;
                }
                Map<String, String> labels = live.getMetadata().getLabels();
                List<ManagedFieldsEntry> fields = live.getMetadata().getManagedFields() == null ? List.of()
                        : live.getMetadata().getManagedFields();
                boolean ours = labels != null && manager.equals(labels.get(DesiredState.MANAGED_BY))
                        && fields.stream().anyMatch(f -> manager.equals(f.getManager()));
                if (!ours) {
                    out.add(new Outcome(ref, Result.KEPT, "not managed by " + manager));
                    continue;
                }
                List<String> others = fields.stream()
                        .filter(f -> !manager.equals(f.getManager()))
                        .filter(f -> f.getSubresource() == null || f.getSubresource().isEmpty()) // status writers (istiod)
                        .map(ManagedFieldsEntry::getManager).distinct().toList();
                if (others.isEmpty()) {
                    client.resource(live).delete();
                    out.add(new Outcome(ref, Result.DELETED, null));
                } else {
                    GenericKubernetesResource empty = new GenericKubernetesResource();
                    empty.setApiVersion(desired.getApiVersion());
                    empty.setKind(desired.getKind());
                    empty.setMetadata(new ObjectMetaBuilder().withName(desired.getMetadata().getName())
                            .withNamespace(desired.getMetadata().getNamespace()).build());
                    try {
                        client.resource(empty).fieldManager(manager).serverSideApply();
                        out.add(new Outcome(ref, Result.RELEASED, "kept for " + String.join(", ", others)));
                    } catch (KubernetesClientException invalid) {
                        if (invalid.getCode() != 422) {
                            throw invalid;
                        }
                        // the others only decorate it; without our fields it would be invalid: leave it to them
                        out.add(new Outcome(ref, Result.KEPT, "shared with " + String.join(", ", others)
                                + ", and invalid without our fields; delete it yourself if intended"));
                    }
                }
            } catch (KubernetesClientException e) {
                // 404, or fabric8's discovery not knowing the kind at all (the CRD was never installed or is gone already)
                if (kindNotInstalled(e)) {
                    out.add(new Outcome(ref, Result.ABSENT, "kind not installed"));
                } else {
                    out.add(new Outcome(ref, Result.ERROR, "HTTP " + e.getCode() + ": " + e.getMessage()));
                }
            }
        }
    }
}
