package dev.zeebeambient.enforcer.status;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.zeebeambient.enforcer.backstop.Backstop;
import dev.zeebeambient.enforcer.bootstrap.Bootstrapper;
import dev.zeebeambient.enforcer.config.EnforcerConfig;
import dev.zeebeambient.enforcer.leader.Leadership;
import io.quarkus.vertx.http.ManagementInterface;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;

/**
 * {@code GET /status} on the management port: the hand-applied setup's troubleshooting checks (camunda-8-helm-profiles, istio-grpc-load-balancer), automated
 * (per object exists / in sync / conflict, Gateway programmed + addresses, Service endpoints,
 * CRD and GatewayClass presence, leader identity), every watch and why one fails, and the backstop's list of detected client
 * pods that are not enrolled (audit mode, not leader, or failing).
 */
@ApplicationScoped
public class StatusRoute {

    private final Bootstrapper bootstrapper;
    private final Leadership leadership;
    private final Backstop backstop;
    private final dev.zeebeambient.enforcer.kube.Watches watches;
    private final boolean audit;
    private final ObjectMapper mapper;
    private final dev.zeebeambient.enforcer.install.InstalledConfiguration installed;

    public StatusRoute(Bootstrapper bootstrapper, Leadership leadership, Backstop backstop, EnforcerConfig config,
            ObjectMapper mapper, dev.zeebeambient.enforcer.kube.Watches watches,
            dev.zeebeambient.enforcer.install.InstalledConfiguration installed) {
        this.installed = installed;
        this.watches = watches;
        this.bootstrapper = bootstrapper;
        this.leadership = leadership;
        this.backstop = backstop;
        this.audit = config.audit();
        this.mapper = mapper;
    }

    void register(@Observes ManagementInterface mi) {
        mi.router().get("/status").blockingHandler(ctx -> {
            try {
                ctx.response().putHeader("Content-Type", "application/json")
                        .end(mapper.writerWithDefaultPrettyPrinter().writeValueAsString(snapshot()));
            } catch (Exception e) {
                ctx.response().setStatusCode(500).putHeader("Content-Type", "application/json")
                        .end("{\"error\":\"cannot render status: " + e.getClass().getSimpleName() + "\"}");
            }
        });
    }

    ObjectNode snapshot() {
        ObjectNode root = mapper.createObjectNode();
        ObjectNode leader = root.putObject("leader");
        leader.put("identity", leadership.identity());
        leader.put("isLeader", leadership.isLeader());
        leader.put("holder", leadership.holder());
        leader.put("missingSeconds", leadership.leaderMissingFor().toSeconds());
        if (leadership.leaderlessProblem() != null) {
            leader.put("problem", leadership.leaderlessProblem());
        }
        root.set("watches", mapper.valueToTree(watches.report()));
        root.set("bootstrap", bootstrapper.enabled() ? mapper.valueToTree(bootstrapper.status())
                : mapper.createObjectNode().put("phase", "disabled"));
        ObjectNode b = root.putObject("backstop");
        b.put("enabled", backstop.enabled());
        b.put("audit", audit);
        b.put("role", backstop.role());
        b.set("notEnrolled", mapper.valueToTree(backstop.notEnrolled()));
        b.set("bypassingTheWaypoint", mapper.valueToTree(backstop.bypassing()));
        b.set("enrolledWhileRunning", mapper.valueToTree(backstop.enrolledWhileRunning()));
        var report = installed.report();
        ObjectNode c = root.putObject("configuration");
        if (report == null) {
            c.put("checked", false);
        } else {
            c.put("checkedAt", report.checkedAt().toString());
            c.put("matchesInstalledObjects", report.consistent());
            c.set("differences", mapper.valueToTree(report.differences().stream().map(Object::toString).toList()));
            c.set("unreadable", mapper.valueToTree(report.unreadable()));
        }
        return root;
    }
}
