package dev.zeebeambient.enforcer;

import dev.zeebeambient.enforcer.testsupport.Endpoints;
import dev.zeebeambient.enforcer.testsupport.Eventually;
import dev.zeebeambient.enforcer.config.EnforcerConfig;
import dev.zeebeambient.enforcer.kube.Watches;
import dev.zeebeambient.enforcer.leader.Leadership;
import dev.zeebeambient.enforcer.testsupport.KubeApiServerResource;
import dev.zeebeambient.enforcer.testsupport.KubeTestCluster;
import io.fabric8.kubernetes.api.model.authentication.SelfSubjectReview;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.function.BooleanSupplier;

import static org.hamcrest.Matchers.containsString;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The application under test is the shipped ServiceAccount (never the admin), and what it cannot
 * do is visible: a forbidden watch and a Lease nobody holds show up in {@code /status}, the
 * {@code bootstrap} health group and metrics, not only in a DEBUG line.
 */
@QuarkusTest
@WithTestResource(KubeApiServerResource.class)
class IdentityAndVisibilityTest {

    @Inject
    KubernetesClient app;
    @Inject
    Watches watches;
    @Inject
    EnforcerConfig config;

    static void await(BooleanSupplier condition, Duration max, String what) {
        Eventually.await(condition, (int) max.toSeconds(), what);
    }

    @Test
    void theApplicationAuthenticatesAsItsServiceAccount() {
        SelfSubjectReview me = app.authentication().v1().selfSubjectReviews().create(new SelfSubjectReview());
        assertEquals(KubeTestCluster.SA_USER, me.getStatus().getUserInfo().getUsername());
    }

    @Test
    void aForbiddenWatchIsReportedInStatusAndHealth() throws Exception {
        KubeTestCluster.get().installCrds();
        try (KubernetesClient nobody = KubeTestCluster.get().clientFor("enforcer-tests", "nobody")) {
            var informer = watches.track("DestinationRule camunda/probe", "list, watch destinationrules.networking.istio.io in camunda",
                    nobody.genericKubernetesResources("networking.istio.io/v1", "DestinationRule").inNamespace("camunda")
                            .withName("probe").runnableInformer(0));
            informer.start();
            try {
                await(() -> watches.problems().containsKey("DestinationRule camunda/probe"), Duration.ofSeconds(20), "reported");
                Watches.Problem p = watches.problems().get("DestinationRule camunda/probe");
                assertEquals(403, p.httpCode());
                assertTrue(p.message().contains("cannot list resource \"destinationrules\""), p.message());
                Endpoints.management().get("/status").then().statusCode(200)
                        .body("watches.'DestinationRule camunda/probe'", containsString("forbidden: needs list, watch destinationrules"));
                Endpoints.management().get("/q/health/group/bootstrap").then().statusCode(503)
                        .body("checks[0].data.'watch DestinationRule camunda/probe'", containsString("forbidden"));
            } finally {
                informer.stop();
                watches.untrack("DestinationRule camunda/probe");
            }
            Endpoints.management().get("/q/health/group/bootstrap").then().statusCode(200);
        }
    }

    /** A replica that cannot see any valid holder (here: it may not even read the Lease) says so. */
    @Test
    void aReplicaThatSeesNoLeaderSaysSo() throws Exception {
        try (KubernetesClient nobody = KubeTestCluster.get().clientFor("enforcer-tests", "nobody")) {
            Leadership stranded = new Leadership(nobody, config, null);
            stranded.begin();
            try {
                Duration lease = config.leaderElection().leaseDuration();
                assertNull(stranded.leaderlessProblem(), "not at once");
                await(() -> stranded.leaderlessProblem() != null, lease.multipliedBy(5), "leaderless reported");
                assertFalse(stranded.isLeader());
                assertTrue(stranded.leaderMissingFor().compareTo(lease.multipliedBy(3)) >= 0);
                String problem = stranded.leaderlessProblem();
                assertTrue(problem.contains("no replica has held Lease zeebe-ambient-enforcer/zeebe-ambient-enforcer-leader"), problem);
                assertTrue(problem.contains("HTTP 403"), problem);
            } finally {
                stranded.end();
            }
        }
    }

    @Test
    void leadershipMetricsAreScraped() {
        String metrics = Endpoints.management().get("/q/metrics").then().statusCode(200)
                .extract().asString();
        assertTrue(metrics.contains("zeebe_ambient_leader_missing_seconds "), metrics);
        assertTrue(metrics.lines().anyMatch(l -> l.startsWith("zeebe_ambient_leader ")), "leader gauge");
    }
}
