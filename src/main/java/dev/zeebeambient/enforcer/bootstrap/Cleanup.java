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
    public enum Result implements dev.zeebeambient.enforcer.status.Tagged {
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
     * What bind-chart-service may have written (whether or not it is on now): the DestinationRule for
     * each chart Service's host (cleaned like ours), and our fields on the chart Service itself,
     * released here (never deleted: Helm owns it). Nothing is reported where nothing of ours is.
     */
    private List<GenericKubernetesResource> chartObjects(String manager, List<Outcome> out) {
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
                var chart = client.services().inNamespace(t.namespace()).withName(name).get();
                if (chart != null && chart.getMetadata().getManagedFields() != null
                        && chart.getMetadata().getManagedFields().stream().anyMatch(f -> manager.equals(f.getManager()))) {
                    GenericKubernetesResource empty = new GenericKubernetesResource();
                    empty.setApiVersion("v1");
                    empty.setKind("Service");
                    empty.setMetadata(new ObjectMetaBuilder().withName(name).withNamespace(t.namespace()).build());
                    client.resource(empty).fieldManager(manager).serverSideApply();
                    out.add(new Outcome("Service " + t.namespace() + "/" + name, Result.RELEASED,
                            "the chart's Service: our waypoint binding removed, the rest kept"));
                }
            } catch (KubernetesClientException e) {
                // 404: kind not installed; 403: without bind-chart-service's RBAC nothing of ours can be there
                if (e.getCode() != 404 && e.getCode() != 403) {
                    out.add(new Outcome("Service " + t.namespace() + "/" + name, Result.ERROR, "HTTP " + e.getCode() + ": " + e.getMessage()));
                }
            }
        }
        return candidates;
    }

    public List<Outcome> run() {
        String manager = config.bootstrap().fieldManager();
        // every object we could have written, whatever the selectors were
        Map<Target, Map<String, String>> any = config.targets().stream()
                .collect(Collectors.toMap(t -> t, t -> Map.of("any", "any")));
        List<Outcome> out = new ArrayList<>();
        List<GenericKubernetesResource> candidates = new ArrayList<>(DesiredState.build(config, any));
        candidates.addAll(chartObjects(manager, out));
        for (GenericKubernetesResource desired : candidates) {
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
                if (e.getCode() == 404) {
                    out.add(new Outcome(ref, Result.ABSENT, "kind not installed"));
                } else {
                    out.add(new Outcome(ref, Result.ERROR, "HTTP " + e.getCode() + ": " + e.getMessage()));
                }
            }
        }
        return out;
    }
}
