package dev.zeebeambient.enforcer.kube;

import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import jakarta.enterprise.context.ApplicationScoped;
import org.jboss.logging.Logger;

import java.time.Instant;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Every watch the enforcer runs, and why one is not watching. A failing watch is logged at WARN
 * once per kind of failure, naming the object, the verbs and resource it needs and, for HTTP 403,
 * the missing permission; {@code /status} and the {@code bootstrap} health group show the failing
 * ones (and forget those that recovered). fabric8 retries by itself; this only makes the failure visible.
 */
@ApplicationScoped
public class Watches {

    private static final Logger LOG = Logger.getLogger(Watches.class);

    /** {@code what}: e.g. "DestinationRule camunda/camunda-zeebe-gateway-grpc"; {@code needs}: e.g. "list, watch destinationrules.networking.istio.io in camunda". */
    public record Problem(String what, String needs, int httpCode, String message, Instant since) {
    }

    private record Tracked(SharedIndexInformer<?> informer, String needs) {
    }

    private final Map<String, Tracked> tracked = new ConcurrentHashMap<>();
    private final Map<String, Problem> problems = new ConcurrentHashMap<>();
    /** Since when a watch that had synced is not watching (fabric8 re-establishes it without reporting an error). */
    private final Map<String, Instant> reconnecting = new ConcurrentHashMap<>();

    /** Registers {@code informer} under {@code what} and installs the reporting exception handler. Call before start. */
    public <T> SharedIndexInformer<T> track(String what, String needs, SharedIndexInformer<T> informer) {
        tracked.put(what, new Tracked(informer, needs));
        informer.exceptionHandler((started, t) -> {
            Tracked current = tracked.get(what);
            if (current != null && current.informer() == informer) { // a stopped, replaced informer reports nothing
                failed(what, needs, t);
            }
            return true; // keep retrying: a permission granted later must be picked up without a restart
        });
        return informer;
    }

    public void untrack(String what) {
        tracked.remove(what);
        problems.remove(what);
    }

    void failed(String what, String needs, Throwable t) {
        KubernetesClientException k = apiError(t);
        int code = k == null ? 0 : k.getCode();
        Problem p = new Problem(what, needs, code, message(k != null ? k : t), Instant.now());
        Problem before = problems.putIfAbsent(what, p);
        if (before == null || before.httpCode() != code) {
            problems.put(what, p);
            if (code == 403) {
                // right after an API server restart its authorizer refuses for a few seconds (RBAC not loaded yet):
                // the same 403, which the retry outlives; say both so nobody reinstalls RBAC for a restart
                LOG.warnf("watch of %s is forbidden: the ServiceAccount lacks %s (HTTP 403: %s); retrying. If this persists, "
                        + "install the RBAC from webhook-config/ (an API server that just restarted refuses for a few seconds)",
                        what, needs, p.message());
            } else {
                LOG.warnf("watch of %s failed (%s%s); retrying", what, code == 0 ? "" : "HTTP " + code + ": ", p.message());
            }
        }
    }

    /** Watches that fail now (a failed watch that is watching again is forgotten, and would be logged again). */
    public Map<String, Problem> problems() {
        Map<String, Problem> out = new TreeMap<>();
        problems.forEach((what, p) -> {
            Tracked t = tracked.get(what);
            if (t != null && t.informer().isWatching()) {
                problems.remove(what);
                LOG.infof("watch of %s works again", what);
            } else {
                out.put(what, p);
            }
        });
        return out;
    }

    /**
     * Every tracked watch: "watching", "starting" (never synced yet), "reconnecting since ..." (synced before, not
     * watching now: the API server restarting or unreachable; its cache still answers), or the problem.
     */
    public Map<String, String> report() {
        Map<String, Problem> now = problems();
        Map<String, String> out = new TreeMap<>();
        Instant at = Instant.now();
        tracked.forEach((what, t) -> {
            Problem p = now.get(what);
            boolean watching = t.informer().isWatching();
            if (watching || p != null) {
                reconnecting.remove(what);
            }
            String state;
            if (p != null) {
                state = p.httpCode() == 403 ? "forbidden: needs " + t.needs() + " (" + p.message() + ")" : "failing: " + p.message();
            } else if (watching) {
                state = "watching";
            } else if (t.informer().hasSynced()) {
                Instant since = reconnecting.computeIfAbsent(what, k -> at);
                state = reconnecting(since, at);
            } else {
                state = "starting";
            }
            out.put(what, state);
        });
        reconnecting.keySet().retainAll(tracked.keySet());
        return out;
    }

    /** Pure: the report of a synced watch that is not watching since {@code since}. */
    static String reconnecting(Instant since, Instant now) {
        return "reconnecting since " + since + " (" + java.time.Duration.between(since, now).toSeconds()
                + " s; the API server does not answer or the watch is being re-established; the cache still answers)";
    }

    /** The API server's answer inside fabric8's wrappers (watch and list failures arrive wrapped). */
    static KubernetesClientException apiError(Throwable t) {
        for (Throwable c = t; c != null; c = c.getCause() == c ? null : c.getCause()) {
            if (c instanceof KubernetesClientException k && k.getCode() > 0) {
                return k;
            }
        }
        return null;
    }

    private static String message(Throwable t) {
        String m = t instanceof KubernetesClientException k && k.getStatus() != null && k.getStatus().getMessage() != null
                ? k.getStatus().getMessage() : String.valueOf(t.getMessage());
        return m.length() <= 300 ? m : m.substring(0, 297) + "...";
    }
}
