package dev.zeebeambient.enforcer.testsupport;

import io.restassured.specification.RequestSpecification;

import static io.restassured.RestAssured.given;

/**
 * The application's two listeners in tests ({@code %test} ports in application.properties): the
 * HTTPS admission port, trusted through the test CA, and the plain management port.
 */
public final class Endpoints {

    public static final int HTTPS_PORT = 18443;
    public static final int MANAGEMENT_PORT = 19000;
    /** What the test webhook registrations call. */
    public static final String MUTATE_URL = "https://localhost:" + HTTPS_PORT + "/mutate";

    private Endpoints() {
    }

    public static RequestSpecification https() {
        return given().baseUri("https://localhost").port(HTTPS_PORT).trustStore(TestPki.get().trustStore());
    }

    /** /q/health/*, /q/metrics, /status. */
    public static RequestSpecification management() {
        return given().baseUri("http://localhost").port(MANAGEMENT_PORT);
    }
}
