package dev.zeebeambient.enforcer.backstop;

import io.fabric8.kubernetes.api.model.OwnerReference;
import io.fabric8.kubernetes.api.model.Pod;

import java.util.ArrayList;
import java.util.List;

/**
 * Enrollments of one subject (the pod's controlling workload, or the pod itself when it has none)
 * by one origin, gathered between two Event writes. 1,000 pods of one ReplicaSet enrolled by the
 * backstop make one Event whose count grows, not 1,000 Events. Pure.
 */
final class EventBatch {

    static final int MAX_MESSAGE = 1024;
    static final int NAMED = 3;

    /** What the Event is about (involvedObject). */
    record Subject(String apiVersion, String kind, String namespace, String name, String uid) {

        static Subject of(Pod pod) {
            OwnerReference owner = pod.getMetadata().getOwnerReferences() == null ? null
                    : pod.getMetadata().getOwnerReferences().stream().filter(o -> Boolean.TRUE.equals(o.getController()))
                            .findFirst().orElse(null);
            if (owner == null) {
                return new Subject("v1", "Pod", pod.getMetadata().getNamespace(), pod.getMetadata().getName(),
                        pod.getMetadata().getUid());
            }
            return new Subject(owner.getApiVersion(), owner.getKind(), pod.getMetadata().getNamespace(), owner.getName(),
                    owner.getUid());
        }

        boolean isPod() {
            return "Pod".equals(kind) && "v1".equals(apiVersion);
        }

        @Override
        public String toString() {
            return kind + " " + namespace + "/" + name;
        }
    }

    /** One Event series: a subject and how its pods were enrolled. */
    record Key(Subject subject, String origin) {
    }

    private final Key key;
    private final List<String> pods = new ArrayList<>();
    private int count;
    private String lastDetail;

    EventBatch(Key key) {
        this.key = key;
    }

    Key key() {
        return key;
    }

    /** {@code detail}: this pod's message, e.g. "Enrolled in Istio ambient at admission: container app: env ...". */
    void add(String pod, String detail) {
        count++;
        if (pods.size() < NAMED) {
            pods.add(pod);
        }
        lastDetail = detail;
    }

    int count() {
        return count;
    }

    /**
     * The Event's message after this batch; {@code total} pods so far in the series. A bare pod's
     * Event is its own message; a workload's names the count, some pods and the latest reason.
     */
    String message(int total) {
        String m;
        if (key.subject().isPod()) {
            m = lastDetail;
        } else {
            String names = String.join(", ", pods) + (count > pods.size() ? " and " + (count - pods.size()) + " more" : "");
            m = total + (total == 1 ? " pod" : " pods") + " of " + key.subject().kind() + " " + key.subject().name()
                    + " so far (now: " + names + "). Latest: " + lastDetail;
        }
        return m.length() <= MAX_MESSAGE ? m : m.substring(0, MAX_MESSAGE - 3) + "...";
    }
}
