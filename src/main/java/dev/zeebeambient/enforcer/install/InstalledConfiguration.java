package dev.zeebeambient.enforcer.install;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.zeebeambient.enforcer.config.ConfigRules;
import dev.zeebeambient.enforcer.config.EnforcerConfig;
import dev.zeebeambient.enforcer.detection.Target;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import jakarta.enterprise.context.ApplicationScoped;
import org.jboss.logging.Logger;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * Does the enforcer run with the configuration its webhook and admission policies were rendered from? The chart writes,
 * on each of them, the settings it was rendered from ({@link #ANNOTATION}, JSON of the enforcer's environment names);
 * this compares them, read-only and by name, with the running configuration at start and every
 * {@link #PERIOD}, for {@code /status}, a gauge, the readiness detail and an alert. A difference means the pods see
 * one configuration and the API server another: a kustomize user edited the environment, or an upgrade half-applied.
 */
@ApplicationScoped
public class InstalledConfiguration {

    private static final Logger LOG = Logger.getLogger(InstalledConfiguration.class);

    public static final String ANNOTATION = "zeebe-ambient-enforcer.io/rendered-from";
    static final Duration PERIOD = Duration.ofMinutes(5);

    /** One setting an object was rendered with that the enforcer does not run with. */
    public record Difference(String object, String setting, String installed, String running) {
        @Override
        public String toString() {
            return object + ": " + setting + " is " + installed + " there, " + running + " here";
        }
    }

    /** The last comparison: differences, objects that could not be read (and why), when. */
    public record Report(Instant checkedAt, List<Difference> differences, List<String> unreadable) {
        public boolean consistent() {
            return differences.isEmpty();
        }
    }

    /** Each setting the chart writes, as the running configuration says it and as a rendered value is read, both normalised. */
    record Setting(Function<EnforcerConfig, String> running, Function<String, String> installed) {
    }

    static final Map<String, Setting> SETTINGS = new LinkedHashMap<>();

    static {
        SETTINGS.put("ENFORCER_TARGETS", new Setting(c -> targets(c.targets().stream().map(Target::toString).toList()),
                v -> targets(Arrays.asList(v.split(",")))));
        SETTINGS.put("ENFORCER_DETECTION_KNOWN_GATEWAY_SERVICES", new Setting(
                c -> targets(c.detection().knownGatewayServices().orElse(List.of()).stream().map(Target::toString).toList()),
                v -> targets(Arrays.asList(v.split(",")))));
        SETTINGS.put("ENFORCER_NAMESPACE_OPT_IN_LABEL", new Setting(c -> label(c.namespaceOptInLabel()), InstalledConfiguration::label));
        SETTINGS.put("ENFORCER_POD_ENROLL_KEY", new Setting(EnforcerConfig::podEnrollKey, String::trim));
        SETTINGS.put("ENFORCER_REASON_ANNOTATION", new Setting(EnforcerConfig::reasonAnnotation, String::trim));
        SETTINGS.put("ENFORCER_CLUSTER_DOMAIN", new Setting(c -> domain(c.clusterDomain()), InstalledConfiguration::domain));
        SETTINGS.put("ENFORCER_AUDIT", new Setting(c -> Boolean.toString(c.audit()), v -> Boolean.toString(Boolean.parseBoolean(v.trim()))));
    }

    private final KubernetesClient client;
    private final EnforcerConfig config;
    private final ObjectMapper mapper;
    private volatile Report last;
    private ScheduledExecutorService timer;

    public InstalledConfiguration(KubernetesClient client, EnforcerConfig config, ObjectMapper mapper) {
        this.client = client;
        this.config = config;
        this.mapper = mapper;
    }

    /** Compares now and every {@link #PERIOD} on a thread of its own (a slow API server delays nothing else). */
    public synchronized void start() {
        timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "installed-configuration");
            t.setDaemon(true);
            return t;
        });
        timer.scheduleWithFixedDelay(this::check, 0, PERIOD.toSeconds(), TimeUnit.SECONDS);
    }

    public synchronized void stop() {
        if (timer != null) {
            timer.shutdownNow();
        }
    }

    /** Null until the first comparison finished. */
    public Report report() {
        return last;
    }

    void check() {
        try {
            List<Difference> differences = new ArrayList<>();
            List<String> unreadable = new ArrayList<>();
            read("MutatingWebhookConfiguration " + InstallNames.NAME, () -> client.admissionRegistration().v1().mutatingWebhookConfigurations()
                    .withName(InstallNames.NAME).get(), differences, unreadable);
            read("ValidatingAdmissionPolicy " + InstallNames.POD_PATCHES, () -> client.admissionRegistration().v1().validatingAdmissionPolicies()
                    .withName(InstallNames.POD_PATCHES).get(), differences, unreadable);
            read("ValidatingAdmissionPolicy " + InstallNames.WORKLOAD_RESTARTS, () -> client.admissionRegistration().v1()
                    .validatingAdmissionPolicies().withName(InstallNames.WORKLOAD_RESTARTS).get(), differences, unreadable);
            read("MutatingAdmissionPolicy " + InstallNames.ENROLL_POLICY, () -> client.genericKubernetesResources("admissionregistration.k8s.io/v1",
                    "MutatingAdmissionPolicy").withName(InstallNames.ENROLL_POLICY).get(), differences, unreadable);
            Report previous = last;
            last = new Report(Instant.now(), List.copyOf(differences), List.copyOf(unreadable));
            if (!differences.isEmpty() && (previous == null || !previous.differences().equals(differences))) {
                LOG.warnf("configuration: the enforcer runs with another configuration than its admission objects were rendered from: %s; "
                        + "install both from one source (helm upgrade, or the ConfigMap %s/%s and the objects rendered with it)",
                        differences.stream().map(Difference::toString).collect(Collectors.joining("; ")), config.ownNamespace(),
                        InstallNames.CONFIG_MAP);
            }
        } catch (RuntimeException e) { // never let the timer die
            LOG.warnf("configuration: cannot compare with the installed admission objects: %s", e.getMessage());
        }
    }

    private void read(String what, java.util.function.Supplier<HasMetadata> get, List<Difference> differences, List<String> unreadable) {
        HasMetadata o;
        try {
            o = get.get();
        } catch (KubernetesClientException e) {
            boolean notServed = String.valueOf(e.getMessage()).contains("Could not find the metadata");
            if (e.getCode() != 404 && !notServed) { // not installed, or (the policy) a Kubernetes that does not serve the kind
                unreadable.add(what + ": " + (e.getCode() == 403 ? "forbidden (install the RBAC of this version)" : e.getMessage()));
            }
            return;
        }
        if (o == null) {
            return;
        }
        String rendered = o.getMetadata().getAnnotations() == null ? null : o.getMetadata().getAnnotations().get(ANNOTATION);
        if (rendered == null) {
            unreadable.add(what + ": no " + ANNOTATION + " annotation (installed by hand or by an older version)");
            return;
        }
        try {
            differences.addAll(compare(what, mapper.readValue(rendered, new TypeReference<Map<String, String>>() { }), config));
        } catch (java.io.IOException | RuntimeException e) {
            unreadable.add(what + ": " + ANNOTATION + " is not the settings as JSON (" + e.getMessage().lines().findFirst().orElse("") + ")");
        }
    }

    /** The settings of {@code rendered} (environment name -> value) the running configuration says otherwise. Pure. */
    public static List<Difference> compare(String object, Map<String, String> rendered, EnforcerConfig running) {
        List<Difference> out = new ArrayList<>();
        for (Map.Entry<String, String> r : new java.util.TreeMap<>(rendered).entrySet()) {
            if (r.getKey().equals("ENFORCER_EXCLUDED_NAMESPACES")) {
                // as the chart writes it: the effective list without the release namespace; the always-excluded ones are in both
                TreeSet<String> there = namespaces(r.getValue());
                there.addAll(ConfigRules.SYSTEM_NAMESPACES);
                there.add(running.bootstrap().istioNamespace());
                there.add(running.ownNamespace());
                TreeSet<String> here = new TreeSet<>(ConfigRules.excludedNamespaces(running));
                if (!there.equals(here)) {
                    out.add(new Difference(object, r.getKey(), String.join(",", there), String.join(",", here)));
                }
                continue;
            }
            Setting s = SETTINGS.get(r.getKey());
            if (s == null) {
                continue; // a setting this version does not compare
            }
            String there;
            try {
                there = s.installed().apply(r.getValue() == null ? "" : r.getValue());
            } catch (RuntimeException e) {
                there = "unreadable '" + r.getValue() + "'";
            }
            String here = s.running().apply(running);
            if (!there.equals(here)) {
                out.add(new Difference(object, r.getKey(), there, here));
            }
        }
        return out;
    }

    private static String targets(List<String> values) {
        return values.stream().map(String::trim).filter(v -> !v.isEmpty()).map(v -> Target.parse(v).toString()).sorted().distinct()
                .collect(Collectors.joining(","));
    }

    private static TreeSet<String> namespaces(String value) {
        return Arrays.stream(value.split(",")).map(String::trim).filter(v -> !v.isEmpty()).collect(Collectors.toCollection(TreeSet::new));
    }

    private static String label(String value) {
        int eq = value.indexOf('=');
        return eq < 0 ? value.trim() : value.substring(0, eq).trim() + "=" + value.substring(eq + 1).trim();
    }

    private static String domain(String value) {
        return value.trim().toLowerCase(Locale.ROOT).replaceAll("^\\.+|\\.+$", "");
    }
}
