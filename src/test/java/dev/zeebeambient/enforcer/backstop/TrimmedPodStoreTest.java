package dev.zeebeambient.enforcer.backstop;

import dev.zeebeambient.enforcer.kube.PodProjection;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.fabric8.kubernetes.api.model.Pod;
import org.junit.jupiter.api.Test;

import java.io.InputStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The informer's cache keeps the projection as JSON bytes and gives back the projection. */
class TrimmedPodStoreTest {

    static Pod fixture() throws Exception {
        try (InputStream in = TrimmedPodStoreTest.class.getResourceAsStream("/fixtures/spring-worker-pod.json")) {
            Pod p = new ObjectMapper().readValue(in, Pod.class);
            p.getMetadata().setName("order-worker-1");
            p.getMetadata().setNamespace("apps");
            p.getMetadata().setResourceVersion("41");
            return p;
        }
    }

    @Test
    void storesTheProjectionAndReturnsThePreviousVersion() throws Exception {
        TrimmedPodStore store = new TrimmedPodStore();
        Pod full = fixture();
        String key = store.getKey(full);
        assertEquals("apps/order-worker-1", key);
        assertNull(store.put(key, full));
        Pod kept = store.get(key);
        assertEquals(new String(TrimmedPodStore.encode(PodProjection.trim(full))), new String(TrimmedPodStore.encode(kept)),
                "what comes back is the projection (empty lists may come back as empty instead of null)");
        assertEquals(PodProjection.trim(full).getSpec().getContainers().get(0).getEnv(), kept.getSpec().getContainers().get(0).getEnv());
        full.getMetadata().setResourceVersion("42");
        Pod previous = store.put(key, full);
        assertEquals("41", previous.getMetadata().getResourceVersion(), "the informer compares versions on update");
        assertEquals("42", store.get(key).getMetadata().getResourceVersion());
        assertEquals(1, store.size());
        assertEquals(1, store.values().count());
        long bytes = store.bytes();
        assertTrue(bytes < new ObjectMapper().writeValueAsBytes(full).length, "kept " + bytes + " bytes");
        assertEquals("42", store.remove(key).getMetadata().getResourceVersion());
        assertNull(store.get(key));
        assertEquals(0, store.keySet().count());
    }
}
