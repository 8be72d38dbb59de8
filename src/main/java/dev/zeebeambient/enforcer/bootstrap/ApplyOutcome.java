package dev.zeebeambient.enforcer.bootstrap;

/**
 * What one server-side apply did: {@code created}, {@code updated}, {@code unchanged} (converged:
 * no write), {@code conflict} (another manager owns a field; {@code message} names field and
 * manager) or {@code error}.
 */
public record ApplyOutcome(String ref, String result, String message) {

    public boolean inSync() {
        return result.equals("created") || result.equals("updated") || result.equals("unchanged");
    }
}
