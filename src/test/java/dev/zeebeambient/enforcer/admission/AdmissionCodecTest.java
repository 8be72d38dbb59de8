package dev.zeebeambient.enforcer.admission;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class AdmissionCodecTest {

    final AdmissionCodec codec = new AdmissionCodec(new ObjectMapper());

    static byte[] b(String s) {
        return s.replace('\'', '"').getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void decodesAPodCreateAndSkipsManagedFields() throws Exception {
        AdmissionRequest r = codec.decode(b("{'apiVersion':'admission.k8s.io/v1','kind':'AdmissionReview','request':{"
                + "'uid':'u1','kind':{'group':'','version':'v1','kind':'Pod'},'operation':'CREATE','namespace':'apps',"
                + "'dryRun':true,'object':{'metadata':{'name':'p','managedFields':[{'manager':'kubectl'}],'labels':{}},"
                + "'spec':{'containers':[]}},'oldObject':{'metadata':{'managedFields':[1]}}}}"));
        assertEquals("u1", r.uid());
        assertTrue(r.isPodCreate());
        assertTrue(r.dryRun());
        assertEquals("apps", r.namespace());
        assertFalse(r.object().get("metadata").has("managedFields"));
        assertEquals("p", r.object().get("metadata").get("name").asText());
        assertTrue(r.object().get("metadata").get("labels").isObject(), "empty objects are kept");
        assertTrue(r.object().get("spec").get("containers").isArray(), "empty arrays are kept");
    }

    @Test
    void managedFieldsElsewhereAreKept() throws Exception {
        AdmissionRequest r = codec.decode(b("{'apiVersion':'admission.k8s.io/v1','kind':'AdmissionReview','request':{"
                + "'uid':'u','object':{'spec':{'managedFields':1}}}}"));
        assertEquals(1, r.object().get("spec").get("managedFields").asInt());
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "Pod||CREATE||true",
            "Pod||UPDATE||false",
            "Pod||CREATE|status|false",
            "Pod|apps|CREATE||false",
            "Deployment|apps|CREATE||false",
            "ConfigMap||CREATE||false"})
    void onlyPodCreateIsMutable(String kind, String group, String op, String sub, boolean mutable) {
        assertEquals(mutable, new AdmissionRequest("u", group, kind, sub, op, "ns", "n", false, null).isPodCreate());
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "''|empty body",
            "{|malformed JSON",
            "[1,2]|body is not a JSON object",
            "{'kind':'AdmissionReview','request':{'uid':'u'}}|unsupported apiVersion 'null'",
            "{'apiVersion':'admission.k8s.io/v1beta1','kind':'AdmissionReview','request':{'uid':'u'}}|unsupported apiVersion 'admission.k8s.io/v1beta1'",
            "{'apiVersion':'admission.k8s.io/v1','kind':'Pod','request':{'uid':'u'}}|unsupported kind 'Pod'",
            "{'apiVersion':'admission.k8s.io/v1','kind':'AdmissionReview'}|missing 'request'",
            "{'apiVersion':'admission.k8s.io/v1','kind':'AdmissionReview','request':[]}|missing 'request'",
            "{'apiVersion':'admission.k8s.io/v1','kind':'AdmissionReview','request':{}}|missing 'request.uid'",
            "{'apiVersion':'admission.k8s.io/v1','kind':'AdmissionReview','request':{'uid':''}}|missing 'request.uid'",
            "{'apiVersion':'admission.k8s.io/v1','kind':'AdmissionReview','request':{'uid':{'a':1}}}|missing 'request.uid'"})
    void badReviewsNameTheProblem(String body, String message) {
        var e = assertThrows(BadReviewException.class, () -> codec.decode(b(body)));
        assertTrue(e.getMessage().startsWith(message), e.getMessage());
    }

    @Test
    void nullBodyAndNullObject() throws Exception {
        assertThrows(BadReviewException.class, () -> codec.decode(null));
        AdmissionRequest r = codec.decode(b("{'apiVersion':'admission.k8s.io/v1','kind':'AdmissionReview','request':{'uid':'u','object':null}}"));
        assertNull(r.object());
    }
}
