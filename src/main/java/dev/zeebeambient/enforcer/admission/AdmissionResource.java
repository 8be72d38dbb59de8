package dev.zeebeambient.enforcer.admission;

import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;

/** The webhook endpoint: bytes in, bytes out; everything else is in {@link AdmissionHandler}. */
@Path("/mutate")
public class AdmissionResource {

    private final AdmissionHandler handler;

    public AdmissionResource(AdmissionHandler handler) {
        this.handler = handler;
    }

    @POST
    @Consumes(MediaType.APPLICATION_JSON)
    @Produces(MediaType.APPLICATION_JSON)
    public Response mutate(byte[] body) {
        AdmissionHandler.Answer answer = handler.handle(body);
        return Response.status(answer.status()).entity(answer.body()).type(MediaType.APPLICATION_JSON).build();
    }
}
