package dev.zeebeambient.enforcer.admission;

import dev.zeebeambient.enforcer.config.EnforcerConfig;
import io.vertx.core.Vertx;
import io.vertx.ext.web.Router;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import org.jboss.logging.Logger;

/**
 * A whole-request deadline on {@code /mutate}: the API server sends an AdmissionReview at once and
 * gives up after the webhook's timeout, so a client still trickling its body after
 * {@code enforcer.request-deadline} is not the API server. It gets 408 and the connection is closed
 * (idle timeouts alone never fire for a client sending one byte per second).
 */
@ApplicationScoped
public class RequestDeadline {

    private static final Logger LOG = Logger.getLogger(RequestDeadline.class);

    void install(@Observes Router router, Vertx vertx, EnforcerConfig config) {
        long ms = config.requestDeadline().toMillis();
        router.route("/mutate").order(-1000).handler(ctx -> {
            long timer = vertx.setTimer(ms, id -> {
                if (!ctx.response().ended() && !ctx.response().closed()) {
                    LOG.warnf("closing a /mutate request from %s: not complete after %d ms", ctx.request().remoteAddress(), ms);
                    if (!ctx.response().headWritten()) {
                        ctx.response().setStatusCode(408).putHeader("Connection", "close")
                                .end("{\"error\":\"request not complete within " + ms + " ms\"}");
                    }
                    ctx.request().connection().close();
                }
            });
            ctx.addEndHandler(v -> vertx.cancelTimer(timer));
            ctx.next();
        });
    }
}
