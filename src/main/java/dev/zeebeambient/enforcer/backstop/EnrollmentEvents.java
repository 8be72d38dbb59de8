package dev.zeebeambient.enforcer.backstop;

import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.EventBuilder;
import io.fabric8.kubernetes.api.model.ObjectReferenceBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import org.jboss.logging.Logger;

import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The {@code EnrolledInAmbient} Events, aggregated like client-go's event correlator: enrollments
 * are gathered per subject (controlling workload, or the bare pod) and written every
 * {@link #FLUSH}; the first write creates the Event, later ones within {@link #SERIES} raise its
 * {@code count} and update its message. A burst of 1,000 pods of one ReplicaSet costs a handful of
 * writes and one object, not 1,000.
 */
final class EnrollmentEvents {

    private static final Logger LOG = Logger.getLogger(EnrollmentEvents.class);
    static final Duration FLUSH = Duration.ofSeconds(2);
    static final Duration SERIES = Duration.ofMinutes(10);
    static final int MAX_SERIES = 4096;
    static final String COMPONENT = "zeebe-ambient-enforcer";

    private static final com.fasterxml.jackson.databind.ObjectMapper JSON = new com.fasterxml.jackson.databind.ObjectMapper();

    private record Written(String name, int count, Instant first) {
    }

    private final KubernetesClient client;
    private final String reason;
    private final String instance;
    private final Map<EventBatch.Key, EventBatch> pending = new LinkedHashMap<>();
    /** Recent series, oldest first; bounded like client-go's LRU. */
    private final Map<EventBatch.Key, Written> written = new LinkedHashMap<>(16, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<EventBatch.Key, Written> eldest) {
            return size() > MAX_SERIES;
        }
    };

    EnrollmentEvents(KubernetesClient client, String reason, String instance) {
        this.client = client;
        this.reason = reason;
        this.instance = instance;
    }

    synchronized void record(Pod pod, String origin, String detail) {
        EventBatch.Key key = new EventBatch.Key(EventBatch.Subject.of(pod), origin);
        pending.computeIfAbsent(key, EventBatch::new).add(pod.getMetadata().getName(), detail);
    }

    synchronized int pending() {
        return pending.size();
    }

    /** Writes what was gathered since the last flush (on the backstop's executor). */
    void flush() {
        Map<EventBatch.Key, EventBatch> batches;
        synchronized (this) {
            batches = new LinkedHashMap<>(pending);
            pending.clear();
        }
        Instant now = Instant.now();
        batches.values().forEach(b -> write(b, now));
    }

    /** Forget everything (no longer the leader: the next leader starts its own series). */
    synchronized void clear() {
        pending.clear();
        written.clear();
    }

    private void write(EventBatch b, Instant now) {
        EventBatch.Subject s = b.key().subject();
        Written w;
        synchronized (this) {
            w = written.get(b.key());
        }
        if (w != null && Duration.between(w.first(), now).compareTo(SERIES) < 0) {
            int total = w.count() + b.count();
            try {
                // resource(..).patch: no GET first (RBAC grants create and patch on Events, nothing else)
                client.v1().events().inNamespace(s.namespace()).resource(new EventBuilder().withNewMetadata().withName(w.name())
                        .withNamespace(s.namespace()).endMetadata().build()).patch(PatchContext.of(PatchType.JSON_MERGE),
                        JSON.createObjectNode().put("count", total).put("lastTimestamp", now.toString())
                                .put("message", b.message(total)).toString());
                remember(b.key(), new Written(w.name(), total, w.first()));
                return;
            } catch (KubernetesClientException ex) {
                if (ex.getCode() != 404) {
                    LOG.warnf("could not update Event %s/%s on %s (%d more pods enrolled): HTTP %d %s", s.namespace(), w.name(), s,
                            b.count(), ex.getCode(), ex.getMessage());
                    return;
                }
                // the Event expired or was deleted: start a new series
            }
        }
        String ts = now.toString();
        try {
            Event created = client.v1().events().inNamespace(s.namespace()).resource(new EventBuilder()
                    .withNewMetadata().withGenerateName(s.name() + ".").endMetadata()
                    .withInvolvedObject(new ObjectReferenceBuilder().withApiVersion(s.apiVersion()).withKind(s.kind())
                            .withNamespace(s.namespace()).withName(s.name()).withUid(s.uid()).build())
                    .withType("Normal").withReason(reason).withMessage(b.message(b.count()))
                    .withNewSource().withComponent(COMPONENT).endSource()
                    .withReportingComponent(COMPONENT).withReportingInstance(instance)
                    .withFirstTimestamp(ts).withLastTimestamp(ts).withCount(b.count())
                    .build()).create();
            remember(b.key(), new Written(created.getMetadata().getName(), b.count(), now));
        } catch (KubernetesClientException ex) {
            LOG.warnf("could not record an Event on %s (%d pods enrolled): HTTP %d %s", s, b.count(), ex.getCode(), ex.getMessage());
        }
    }

    private synchronized void remember(EventBatch.Key key, Written w) {
        written.put(key, w);
    }
}
