package dev.zeebeambient.enforcer.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;

/**
 * The same properties as {@link AdmissionFuzzTest}, for long runs (README "Hardening"):
 * {@code JAZZER_FUZZ=1 mvn test -Dtest='LongFuzzTest#admissionPath'} fuzzes for an hour. Its seeds are
 * AdmissionFuzzTest's ({@code LongFuzzTestInputs} is a link to {@code AdmissionFuzzTestInputs}): without them an hour
 * of random bytes never got past the JSON parser (45 edges).
 */
class LongFuzzTest {

    @FuzzTest(maxDuration = "1h")
    void admissionPath(byte[] body) throws Exception {
        AdmissionFuzzTest.checkAdmissionPath(body);
    }

    @FuzzTest(maxDuration = "1h")
    void addressParser(String value) {
        AdmissionFuzzTest.checkAddress(value);
    }
}
