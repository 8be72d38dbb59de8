package dev.zeebeambient.enforcer.detection;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class AddressMatcherTest {

    static final Target GW = Target.parse("camunda/camunda-zeebe-gateway-grpc:26500");
    final AddressMatcher matcher = new AddressMatcher(List.of(GW), "cluster.local");

    @ParameterizedTest
    @ValueSource(strings = {
            "camunda-zeebe-gateway-grpc.camunda:26500",
            "camunda-zeebe-gateway-grpc.camunda",
            "camunda-zeebe-gateway-grpc.camunda.svc:26500",
            "camunda-zeebe-gateway-grpc.camunda.svc",
            "camunda-zeebe-gateway-grpc.camunda.svc.cluster.local:26500",
            "camunda-zeebe-gateway-grpc.camunda.svc.cluster.local",
            "camunda-zeebe-gateway-grpc.camunda.svc.cluster.local.:26500",
            "http://camunda-zeebe-gateway-grpc.camunda:26500",
            "https://camunda-zeebe-gateway-grpc.camunda:26500",
            "grpc://camunda-zeebe-gateway-grpc.camunda:26500",
            "grpcs://camunda-zeebe-gateway-grpc.camunda:26500",
            "zeebe://camunda-zeebe-gateway-grpc.camunda:26500",
            "dns:///camunda-zeebe-gateway-grpc.camunda:26500",
            "http://camunda-zeebe-gateway-grpc.camunda:26500/",
            "http://camunda-zeebe-gateway-grpc.camunda.svc.cluster.local/",
            "  HTTP://Camunda-Zeebe-Gateway-GRPC.Camunda:26500  ",
    })
    void matchesEveryAddressFormFromAnyNamespace(String value) {
        assertEquals(GW, matcher.matchValue(value, "apps").orElseThrow(), value);
    }

    @ParameterizedTest
    @ValueSource(strings = {"camunda-zeebe-gateway-grpc", "camunda-zeebe-gateway-grpc:26500",
            "http://camunda-zeebe-gateway-grpc:26500", "dns:///camunda-zeebe-gateway-grpc:26500"})
    void shortNameMatchesOnlyInTheTargetNamespace(String value) {
        assertEquals(GW, matcher.matchValue(value, "camunda").orElseThrow());
        assertTrue(matcher.matchValue(value, "apps").isEmpty(), "short name from another namespace: " + value);
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "camunda-zeebe-gateway-grpc.camunda:26501",                 // other port
            "camunda-zeebe-gateway-grpc.camunda:8080",
            "camunda-zeebe-gateway-grpc.other:26500",                   // other namespace
            "camunda-zeebe-gateway-grpc.camunda.svc.other.domain:26500", // other cluster domain
            "camunda-zeebe-gateway-grpc-old.camunda:26500",             // longer name
            "my-camunda-zeebe-gateway-grpc.camunda:26500",              // prefixed name
            "camunda-zeebe-gateway.camunda:26500",                      // the chart's own Service
            "http://example.com/camunda-zeebe-gateway-grpc.camunda:26500",
            "http://camunda-zeebe-gateway-grpc.camunda:26500/v1/topology",
            "http://camunda-zeebe-gateway-grpc.camunda.evil.com:26500",
            "ftp://camunda-zeebe-gateway-grpc.camunda:26500",
            "camunda-zeebe-gateway-grpc.camunda:port",
            "camunda-zeebe-gateway-grpc.camunda:",
            "",
            "26500",
    })
    void lookAlikesDoNotMatch(String value) {
        assertTrue(matcher.matchValue(value, "camunda").isEmpty(), value);
    }

    @Test
    void nullDoesNotMatch() {
        assertTrue(matcher.matchValue(null, "camunda").isEmpty());
        assertTrue(matcher.scan(null, "camunda").isEmpty());
        assertTrue(matcher.matchHost(null, null, "camunda").isEmpty());
    }

    @Test
    void configurableClusterDomain() {
        AddressMatcher m = new AddressMatcher(List.of(GW), "corp.example");
        assertTrue(m.matchValue("camunda-zeebe-gateway-grpc.camunda.svc.corp.example:26500", "x").isPresent());
        assertTrue(m.matchValue("camunda-zeebe-gateway-grpc.camunda.svc.cluster.local:26500", "x").isEmpty());
    }

    @Test
    void severalTargetsEachMatchTheirOwnPort() {
        Target other = Target.parse("zeebe/prod-zeebe-gateway:26600");
        AddressMatcher m = new AddressMatcher(List.of(GW, other), "cluster.local");
        assertEquals(other, m.matchValue("prod-zeebe-gateway.zeebe:26600", "x").orElseThrow());
        assertTrue(m.matchValue("prod-zeebe-gateway.zeebe:26500", "x").isEmpty());
    }

    @Test
    void hostAndSeparatePort() {
        assertEquals(GW, matcher.matchHost("camunda-zeebe-gateway-grpc.camunda", 26500, "x").orElseThrow());
        assertEquals(GW, matcher.matchHost("camunda-zeebe-gateway-grpc.camunda", null, "x").orElseThrow());
        assertTrue(matcher.matchHost("camunda-zeebe-gateway-grpc.camunda", 26501, "x").isEmpty());
        assertTrue(matcher.matchHost("camunda-zeebe-gateway-grpc.camunda:26500", 26500, "x").isEmpty());
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "-Dzeebe.client.broker.gateway-address=camunda-zeebe-gateway-grpc.camunda:26500",
            "-Xmx512m -Dcamunda.client.grpc-address=http://camunda-zeebe-gateway-grpc.camunda:26500 -jar app.jar",
            "--camunda.client.zeebe.grpc-address=http://camunda-zeebe-gateway-grpc.camunda:26500",
            "--address camunda-zeebe-gateway-grpc.camunda:26500",
            "{\"zeebe\":{\"client\":{\"broker\":{\"gateway-address\":\"camunda-zeebe-gateway-grpc.camunda:26500\"}}}}",
            "camunda:\n  client:\n    zeebe:\n      grpc-address: \"http://camunda-zeebe-gateway-grpc.camunda:26500\"\n",
            "zeebe.client.broker.gateway-address: camunda-zeebe-gateway-grpc.camunda:26500",
            "zeebe.client.broker.gatewayAddress=camunda-zeebe-gateway-grpc.camunda:26500",
            "gatewayAddress:camunda-zeebe-gateway-grpc.camunda:26500",
            "exec zbctl --address 'camunda-zeebe-gateway-grpc.camunda:26500' status",
    })
    void findsAddressesInFreeText(String text) {
        var hit = matcher.scan(text, "apps").orElseThrow(() -> new AssertionError("no hit in " + text));
        assertEquals(GW, hit.target());
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "http://proxy.example/?target=camunda-zeebe-gateway-grpc.camunda:26500",
            "see https://docs.example/camunda-zeebe-gateway-grpc.camunda:26500 for details",
            "-Dother=camunda-zeebe-gateway-grpc.camunda:26501",
            "camunda-zeebe-gateway-grpc-old.camunda:26500 my-camunda-zeebe-gateway-grpc.camunda:26500",
            "name: camunda-zeebe-gateway-grpc",   // short name, pod in another namespace
    })
    void freeTextLookAlikesDoNotMatch(String text) {
        assertTrue(matcher.scan(text, "apps").isEmpty(), text);
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "camunda", "camunda/", "/svc:1", "camunda/svc", "camunda/svc:0", "camunda/svc:70000",
            "Camunda_X/svc:1", "camunda/svc:abc"})
    void badTargetsAreRejectedWithTheExpectedForm(String text) {
        var e = assertThrows(IllegalArgumentException.class, () -> Target.parse(text));
        assertTrue(e.getMessage().contains("invalid target"), e.getMessage());
    }
}
