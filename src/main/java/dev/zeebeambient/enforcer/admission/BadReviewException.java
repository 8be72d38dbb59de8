package dev.zeebeambient.enforcer.admission;

/** The body is not a usable AdmissionReview; the message names the problem (answered with 400). */
public class BadReviewException extends Exception {
    public BadReviewException(String message) {
        super(message, null, false, false);
    }
}
