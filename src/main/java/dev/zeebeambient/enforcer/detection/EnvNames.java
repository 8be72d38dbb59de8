package dev.zeebeambient.enforcer.detection;

import java.util.Locale;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The names under which Zeebe clients, Spring/Quarkus integrations and Camunda components take
 * the gateway address (README "What counts as a Zeebe client"), compared after normalisation: upper-case, without
 * {@code .}, {@code -} and {@code _}, so {@code zeebe.client.broker.gateway-address},
 * {@code ZEEBE_CLIENT_BROKER_GATEWAY-ADDRESS} and {@code ZEEBE_CLIENT_BROKER_GATEWAYADDRESS}
 * are one name.
 */
public final class EnvNames {

    private static final Set<String> ADDRESS_NAMES = Set.of(
            "ZEEBEADDRESS",                          // Go client, zbctl, pyzeebe, Node SDK
            "ZEEBEGRPCADDRESS",                      // Java client 8.5+, Node SDK
            "CAMUNDAGRPCADDRESS",                    // Java client 8.8+
            "ZEEBEGATEWAYADDRESS",                   // legacy zeebe-node
            "ZEEBECLIENTBROKERGATEWAYADDRESS",       // spring-zeebe
            "ZEEBECLIENTBROKERGRPCADDRESS",
            "ZEEBECLIENTBROKERCONTACTPOINT",
            "ZEEBECLIENTGATEWAYADDRESS",
            "QUARKUSZEEBECLIENTBROKERGATEWAYADDRESS",
            "CAMUNDACLIENTZEEBEGRPCADDRESS",         // Camunda Spring SDK
            "CAMUNDACLIENTZEEBEGATEWAYURL",
            "CAMUNDACLIENTGRPCADDRESS",
            "CAMUNDAOPERATEZEEBEGATEWAYADDRESS",     // Operate / Tasklist
            "CAMUNDAOPERATEZEEBEBROKERCONTACTPOINT",
            "CAMUNDATASKLISTZEEBEGATEWAYADDRESS",
            "CAMUNDATASKLISTZEEBEBROKERCONTACTPOINT");

    /** Web Modeler: {@code CAMUNDA_MODELER_CLUSTERS_<n>_URL_GRPC} / {@code ..._URL_ZEEBE_GRPC} (whole normalised name). */
    public static final String MODELER_PATTERN = "CAMUNDAMODELERCLUSTERS\\d+URL(ZEEBE)?GRPC";
    private static final Pattern MODELER = Pattern.compile(MODELER_PATTERN);

    /** Go client / zbctl split form: host in {@code ZEEBE_HOST}, port in {@code ZEEBE_PORT}. */
    public static final String HOST = "ZEEBEHOST";
    public static final String PORT = "ZEEBEPORT";

    private EnvNames() {
    }

    private static final Pattern SEPARATORS = Pattern.compile("[._\\-]");

    public static String normalise(String name) {
        return name == null ? "" : SEPARATORS.matcher(name.toUpperCase(Locale.ROOT)).replaceAll("");
    }

    /** The documented gateway-address names, normalised (the admission policy repeats them). */
    public static java.util.Set<String> addressNames() {
        return ADDRESS_NAMES;
    }

    /** A documented gateway-address variable or property (any spelling). */
    public static boolean isAddressName(String name) {
        String n = normalise(name);
        return ADDRESS_NAMES.contains(n) || MODELER.matcher(n).matches();
    }
}
