package dev.zeebeambient.enforcer.tags;

import com.fasterxml.jackson.annotation.JsonValue;

import java.util.Locale;

/** A closed set shown to users (/status, metrics, logs) as lower-case, hyphenated names: NOT_LEADER -> "not-leader". */
public interface Tagged {

    String name();

    @JsonValue
    default String tag() {
        return name().toLowerCase(Locale.ROOT).replace('_', '-');
    }
}
