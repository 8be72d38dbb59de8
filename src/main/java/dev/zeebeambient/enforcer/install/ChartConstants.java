package dev.zeebeambient.enforcer.install;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.zeebeambient.enforcer.config.ConfigRules;
import dev.zeebeambient.enforcer.decision.EnrollmentDecider;
import dev.zeebeambient.enforcer.detection.AddressRegex;
import dev.zeebeambient.enforcer.detection.EnvNames;
import dev.zeebeambient.enforcer.detection.Target;
import dev.zeebeambient.enforcer.detection.ZeebeClientDetector;
import dev.zeebeambient.enforcer.enrollment.Origin;

import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * What the chart's templates need from the enforcer's code, as {@code webhook-config/helm/zeebe-ambient-enforcer/files/constants.json}:
 * the client env names, the address grammar as RE2 fragments, the configuration's rules (target form, key form, system
 * namespaces) and the names the enforcer writes. The chart renders every install object from its values and these; the
 * detector and the configuration stay their only author ({@code InstallFilesTest} rewrites the file with
 * {@code -Dinstall.refresh=true} and fails, with a diff, when it differs).
 */
public final class ChartConstants {

    private ChartConstants() {
    }

    public static Map<String, Object> values() {
        Map<String, Object> m = new TreeMap<>();
        m.put("addressEnvNames", new TreeSet<>(EnvNames.addressNames()));
        m.put("hostEnv", EnvNames.HOST);
        m.put("portEnv", EnvNames.PORT);
        m.put("modelerEnvPattern", EnvNames.MODELER_PATTERN);
        m.put("defaultZeebePort", Integer.toString(ZeebeClientDetector.DEFAULT_ZEEBE_PORT));
        m.put("schemePrefix", AddressRegex.PREFIX);
        m.put("bareScheme", AddressRegex.BARE_SCHEME);
        m.put("separatorChars", AddressRegex.SEP_CHARS);
        m.put("keyPrefix", AddressRegex.KEY_PREFIX);
        m.put("targetPattern", "^" + Target.PATTERN + "$");
        m.put("qualifiedKeyPattern", "^" + ConfigRules.QUALIFIED_KEY + "$");
        m.put("retiredObjectPattern", "^" + ConfigRules.RETIRED_OBJECT + "$");
        m.put("systemNamespaces", new TreeSet<>(ConfigRules.SYSTEM_NAMESPACES));
        m.put("dataplaneModeLabel", EnrollmentDecider.DATAPLANE_MODE);
        m.put("originAnnotationName", dev.zeebeambient.enforcer.enrollment.Enrollment.ORIGIN_NAME);
        m.put("policyOrigin", Origin.POLICY.tag());
        m.put("admissionOrigin", Origin.ADMISSION.tag());
        return m;
    }

    public static String json() {
        try {
            return new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).enable(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS)
                    .writeValueAsString(values()) + "\n";
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }
}
