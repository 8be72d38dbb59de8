package dev.zeebeambient.enforcer.backstop;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedDeque;

/**
 * Pod keys waiting to be looked at, each at most once (like client-go's workqueue): a pod that
 * changes ten times while queued is decided once, on its latest state. Thread-safe.
 */
final class WorkQueue {

    private final ConcurrentLinkedDeque<String> order = new ConcurrentLinkedDeque<>();
    private final Set<String> queued = ConcurrentHashMap.newKeySet();

    /** True when the key was not queued yet. */
    boolean add(String key) {
        if (queued.add(key)) {
            order.addLast(key);
            return true;
        }
        return false;
    }

    /** Back to the front: it was taken, but its turn is not yet (rate limit). */
    void putBack(String key) {
        if (queued.add(key)) {
            order.addFirst(key);
        }
    }

    /** The next key, or null. */
    String poll() {
        String key = order.pollFirst();
        if (key != null) {
            queued.remove(key);
        }
        return key;
    }

    int size() {
        return queued.size();
    }

    void clear() {
        order.clear();
        queued.clear();
    }
}
