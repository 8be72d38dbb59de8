package dev.zeebeambient.enforcer.backstop;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashSet;
import java.util.Set;

/**
 * Pod keys waiting to be looked at, with client-go's workqueue rules: a key is queued at most
 * once (a pod that changes ten times while queued is decided once, on its latest state), and never
 * handed out while it is still being processed — a change that arrives meanwhile queues it again
 * when {@link #done} is called. Thread-safe.
 */
final class WorkQueue {

    private final Deque<String> order = new ArrayDeque<>();
    /** Waiting to be (re)processed. */
    private final Set<String> dirty = new HashSet<>();
    /** Handed out by {@link #poll}, not yet {@link #done}. */
    private final Set<String> processing = new HashSet<>();

    /** True when the key was not waiting yet. */
    synchronized boolean add(String key) {
        if (!dirty.add(key)) {
            return false;
        }
        if (!processing.contains(key)) {
            order.addLast(key);
        }
        return true;
    }

    /** Back to the front, not processed after all (its turn is not yet: rate limit, patches in flight). */
    synchronized void putBack(String key) {
        processing.remove(key); // a processing key is never in order: it goes to the front exactly once
        dirty.add(key);
        order.addFirst(key);
    }

    /** The next key (now "processing"), or null. */
    synchronized String poll() {
        String key = order.pollFirst();
        if (key != null) {
            dirty.remove(key);
            processing.add(key);
        }
        return key;
    }

    /** Processing of {@code key} ended; if it changed meanwhile, it is queued again. */
    synchronized void done(String key) {
        processing.remove(key);
        if (dirty.contains(key)) {
            order.addLast(key);
        }
    }

    synchronized int size() {
        return dirty.size();
    }

    synchronized int processing() {
        return processing.size();
    }

    synchronized void clear() {
        order.clear();
        dirty.clear();
        processing.clear();
    }
}
