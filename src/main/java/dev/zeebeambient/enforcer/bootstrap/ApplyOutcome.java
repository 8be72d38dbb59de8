package dev.zeebeambient.enforcer.bootstrap;

/** What one server-side apply did to the object {@code ref}; {@code message} explains a conflict or error. */
public record ApplyOutcome(String ref, ApplyResult result, String message) {

    public boolean inSync() {
        return result.inSync();
    }
}
