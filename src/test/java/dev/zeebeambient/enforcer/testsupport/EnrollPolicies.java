package dev.zeebeambient.enforcer.testsupport;

import dev.zeebeambient.enforcer.install.InstallNames;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The in-API-server enroll policy (shipped as {@code webhook-config/components/enroll-policy}) in the shared test API server:
 * installed (as a platform team applies a static manifest, admin) by the tests that need it, and removed
 * again, waiting until the API server no longer applies it, because the other tests put the webhook's
 * decisions under test and need it to see every pod. (The enforcer's identity, installed from the base
 * by {@code KubeTestCluster}, is the ServiceAccount, its RBAC and the policies that limit it: not these.)
 */
public final class EnrollPolicies {

    public static final Path SHIPPED = Path.of("webhook-config/components/enroll-policy/resources.yaml");

    private EnrollPolicies() {
    }

    public static List<HasMetadata> install(String yaml) {
        KubernetesClient admin = KubeTestCluster.get().client();
        List<HasMetadata> objects = admin.load(new ByteArrayInputStream(yaml.getBytes(StandardCharsets.UTF_8))).items();
        objects.forEach(o -> admin.resource(o).fieldManager("enforcer-tests").forceConflicts().serverSideApply());
        return objects;
    }

    /** The shipped component, in force in {@code namespace} (opted in) when this returns. */
    public static void installShipped(String namespace) throws IOException {
        install(Files.readString(SHIPPED));
        Eventually.await(() -> dev.zeebeambient.enforcer.enrollment.Origin.POLICY.tag().equals(probe(namespace)), 30, "the API server applies the enroll policy");
    }

    public static void remove(String namespace) {
        delete();
        Eventually.await(() -> !dev.zeebeambient.enforcer.enrollment.Origin.POLICY.tag().equals(probe(namespace)), 30, "the enroll policy no longer applied");
    }

    /** Deletes the policy, its binding and the warning policy with its binding (the API server drops them asynchronously). */
    public static void delete() {
        KubernetesClient admin = KubeTestCluster.get().client();
        admin.genericKubernetesResources("admissionregistration.k8s.io/v1", "MutatingAdmissionPolicyBinding").withName(InstallNames.ENROLL_POLICY)
                .delete();
        admin.genericKubernetesResources("admissionregistration.k8s.io/v1", "MutatingAdmissionPolicy").withName(InstallNames.ENROLL_POLICY).delete();
        admin.admissionRegistration().v1().validatingAdmissionPolicyBindings().withName(InstallNames.ENROLL_WARNING).delete();
        admin.admissionRegistration().v1().validatingAdmissionPolicies().withName(InstallNames.ENROLL_WARNING).delete();
        admin.admissionRegistration().v1().validatingAdmissionPolicyBindings().withName(InstallNames.BYPASS_WARNING).delete();
        admin.admissionRegistration().v1().validatingAdmissionPolicies().withName(InstallNames.BYPASS_WARNING).delete();
    }

    /** Who enrolls a literal client in a dry run in {@code namespace}. */
    public static String probe(String namespace) {
        var p = KubeTestCluster.get().client().pods().inNamespace(namespace).resource(new PodBuilder().withNewMetadata().withName("probe")
                .endMetadata().withNewSpec().addNewContainer().withName("app").withImage("app:1").addNewEnv().withName("ZEEBE_ADDRESS")
                .withValue("camunda-zeebe-gateway-grpc.camunda:26500").endEnv().endContainer().endSpec().build()).dryRun().create();
        return p.getMetadata().getAnnotations() == null ? null : p.getMetadata().getAnnotations().get("zeebe-ambient-enforcer.io/enrolled-by");
    }
}
