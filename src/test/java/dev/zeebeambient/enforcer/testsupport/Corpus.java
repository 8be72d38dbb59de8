package dev.zeebeambient.enforcer.testsupport;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fabric8.kubernetes.api.model.Pod;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * The pod corpus every test that compares deciders reads: {@code src/test/resources/corpus/pods/<group>.jsonl}, a line
 * per pod ({@code {"name": ..., "pod": {...}}}: the other tests' pod shapes and the match-condition pods, every address
 * form and look-alike, free text, host/port pairs, skip rules), and beside it the webhook's golden verdict for each
 * ({@code verdicts/<group>.jsonl}: kind, reason, patch, warnings; refreshed with {@code -Dcorpus.update=true} and
 * reviewed like any change). A new case is a new line; {@code CorpusVerdictTest} adds its verdict.
 */
public final class Corpus {

    public static final Path DIR = Path.of("src", "test", "resources", "corpus");
    static final ObjectMapper M = new ObjectMapper();

    private Corpus() {
    }

    /** The group a case belongs to: the first word of its name. */
    public static String group(String name) {
        String first = name.contains(" ") ? name.substring(0, name.indexOf(' ')) : name;
        return List.of("shape", "match-condition", "env", "scan", "pair").contains(first) ? first : "misc";
    }

    /** Every pod, in file and line order, by name. */
    public static Map<String, Pod> pods() {
        Map<String, Pod> pods = new LinkedHashMap<>();
        for (Map.Entry<String, List<JsonNode>> g : read("pods").entrySet()) {
            for (JsonNode line : g.getValue()) {
                String name = line.get("name").asText();
                if (pods.put(name, M.convertValue(line.get("pod"), Pod.class)) != null) {
                    throw new IllegalStateException("two corpus cases named " + name);
                }
            }
        }
        return pods;
    }

    /** The golden verdicts, by case name. */
    public static Map<String, JsonNode> verdicts() {
        Map<String, JsonNode> verdicts = new LinkedHashMap<>();
        read("verdicts").values().forEach(lines -> lines.forEach(l -> verdicts.put(l.get("name").asText(), l)));
        return verdicts;
    }

    /** Writes the verdicts (each an object with "name"), grouped like the pods. */
    public static void writeVerdicts(Map<String, ObjectNode> verdicts) {
        write("verdicts", verdicts);
    }

    /**
     * A decision-table case: a pod with what its decision reads besides the pod (namespace, its labels, configuration
     * overrides, target Services' selectors by {@code ns/name:port}, known bypassing Services).
     */
    public record Case(String name, String namespace, Map<String, String> namespaceLabels, Map<String, String> config,
            Map<String, Map<String, String>> targetSelectors, List<String> bypass, Pod pod) {
    }

    /** README's decision table, a case per row ({@code decision-table/rows.jsonl}, the row number as name). */
    public static List<Case> decisionTable() {
        List<Case> cases = new ArrayList<>();
        for (JsonNode l : read("decision-table").getOrDefault("rows.jsonl", List.of())) {
            cases.add(new Case(l.get("name").asText(), l.get("namespace").asText(),
                    M.convertValue(l.get("namespaceLabels"), new com.fasterxml.jackson.core.type.TypeReference<Map<String, String>>() { }),
                    M.convertValue(l.get("config"), new com.fasterxml.jackson.core.type.TypeReference<Map<String, String>>() { }),
                    M.convertValue(l.get("targetSelectors"),
                            new com.fasterxml.jackson.core.type.TypeReference<Map<String, Map<String, String>>>() { }),
                    M.convertValue(l.get("bypass"), new com.fasterxml.jackson.core.type.TypeReference<List<String>>() { }),
                    M.convertValue(l.get("pod"), Pod.class)));
        }
        return cases;
    }

    /** The golden verdicts of the decision-table cases, by row. */
    public static Map<String, JsonNode> decisionTableVerdicts() {
        Map<String, JsonNode> verdicts = new LinkedHashMap<>();
        read("decision-table").getOrDefault("verdicts.jsonl", List.of()).forEach(l -> verdicts.put(l.get("name").asText(), l));
        return verdicts;
    }

    public static void writeDecisionTableVerdicts(Map<String, ObjectNode> verdicts) {
        writeFile(DIR.resolve("decision-table").resolve("verdicts.jsonl"), verdicts.values().stream().map(Object::toString).toList());
    }

    public static void writeDecisionTable(List<Case> cases) {
        writeFile(DIR.resolve("decision-table").resolve("rows.jsonl"), cases.stream().map(c -> M.valueToTree(c).toString()).toList());
    }

    private static void writeFile(Path file, List<String> lines) {
        try {
            Files.createDirectories(file.getParent());
            Files.writeString(file, String.join("\n", lines) + "\n");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Writes pods as corpus lines (how the corpus was first made from the tests' builders). */
    public static void writePods(Map<String, Pod> pods) {
        Map<String, ObjectNode> lines = new LinkedHashMap<>();
        pods.forEach((name, pod) -> {
            ObjectNode line = M.createObjectNode().put("name", name);
            line.set("pod", M.valueToTree(pod));
            lines.put(name, line);
        });
        write("pods", lines);
    }

    private static void write(String kind, Map<String, ObjectNode> lines) {
        Map<String, List<String>> byGroup = new TreeMap<>();
        lines.forEach((name, line) -> byGroup.computeIfAbsent(group(name), g -> new ArrayList<>()).add(line.toString()));
        try {
            Files.createDirectories(DIR.resolve(kind));
            for (Map.Entry<String, List<String>> g : byGroup.entrySet()) {
                Files.writeString(DIR.resolve(kind).resolve(g.getKey() + ".jsonl"), String.join("\n", g.getValue()) + "\n");
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static Map<String, List<JsonNode>> read(String kind) {
        Map<String, List<JsonNode>> groups = new TreeMap<>();
        try (Stream<Path> files = Files.list(DIR.resolve(kind))) {
            for (Path f : files.filter(p -> p.toString().endsWith(".jsonl")).sorted().toList()) {
                List<JsonNode> lines = new ArrayList<>();
                for (String l : Files.readAllLines(f)) {
                    if (!l.isBlank()) {
                        lines.add(M.readTree(l));
                    }
                }
                groups.put(f.getFileName().toString(), lines);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the corpus in " + DIR.resolve(kind), e);
        }
        return groups;
    }
}
