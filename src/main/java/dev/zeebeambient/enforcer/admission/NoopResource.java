package dev.zeebeambient.enforcer.admission;

import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import org.eclipse.microprofile.config.inject.ConfigProperty;

import java.nio.charset.StandardCharsets;

/**
 * Benchmark baseline only (profile {@code bench}: {@code bench.noop-endpoint=true}): the cheapest
 * valid AdmissionReview answer over the same HTTPS stack, so /mutate can be compared with it.
 * 404 otherwise.
 */
@Path("/noop")
public class NoopResource {

    private static final byte[] ALLOWED = ("{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\","
            + "\"response\":{\"uid\":\"\",\"allowed\":true}}").getBytes(StandardCharsets.UTF_8);

    @ConfigProperty(name = "bench.noop-endpoint", defaultValue = "false")
    boolean enabled;

    @POST
    @Consumes(MediaType.APPLICATION_JSON)
    @Produces(MediaType.APPLICATION_JSON)
    public Response noop(byte[] body) {
        return enabled ? Response.ok(ALLOWED).build() : Response.status(404).build();
    }
}
