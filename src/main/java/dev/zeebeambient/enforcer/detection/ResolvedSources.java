package dev.zeebeambient.enforcer.detection;

import java.util.Map;
import java.util.Set;

/**
 * The data of the ConfigMaps/Secrets a pod references, as fetched before deciding, so the
 * decision itself stays a pure function. {@code unavailable} holds those that could not be
 * read (timeout, API error, forbidden), {@code missing} those that do not exist (yet: often
 * created after the Deployment): both are reported, not guessed.
 */
public record ResolvedSources(Map<SourceRef, Map<String, String>> data, Set<SourceRef> unavailable, Set<SourceRef> missing) {

    public static final ResolvedSources NONE = new ResolvedSources(Map.of(), Set.of(), Set.of());

    public ResolvedSources(Map<SourceRef, Map<String, String>> data, Set<SourceRef> unavailable) {
        this(data, unavailable, Set.of());
    }

    public Map<String, String> get(SourceRef ref) {
        return data.get(ref);
    }
}
