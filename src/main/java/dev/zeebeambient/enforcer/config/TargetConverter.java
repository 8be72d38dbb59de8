package dev.zeebeambient.enforcer.config;

import dev.zeebeambient.enforcer.detection.Target;
import org.eclipse.microprofile.config.spi.Converter;

/** Reads {@code enforcer.targets} entries; a bad entry fails start-up with a message naming it. */
public class TargetConverter implements Converter<Target> {
    @Override
    public Target convert(String value) {
        return Target.parse(value);
    }
}
