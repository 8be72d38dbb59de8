package dev.zeebeambient.enforcer.testsupport;

import dev.zeebeambient.enforcer.backstop.Backstop;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.PodBuilder;

import java.util.List;

/** Pod fixtures shared by the backstop and audit tests, and the Events the enforcer writes. */
public final class Pods {

    private Pods() {
    }

    /** A one-container pod; a Zeebe client of the default target when {@code client}. */
    public static PodBuilder pod(String name, boolean client) {
        PodBuilder b = new PodBuilder().withNewMetadata().withName(name).endMetadata()
                .withNewSpec().addNewContainer().withName("app").withImage("app:1").endContainer().endSpec();
        if (client) {
            b.editSpec().editFirstContainer().addNewEnv().withName("ZEEBE_ADDRESS")
                    .withValue("camunda-zeebe-gateway-grpc.camunda:26500").endEnv().endContainer().endSpec();
        }
        return b;
    }

    public static List<Event> enrolledEvents(String ns) {
        return KubeTestCluster.get().client().v1().events().inNamespace(ns).list().getItems().stream()
                .filter(e -> Backstop.EVENT_REASON.equals(e.getReason())).toList();
    }
}
