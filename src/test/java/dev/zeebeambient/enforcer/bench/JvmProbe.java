package dev.zeebeambient.enforcer.bench;

import java.nio.file.Files;
import java.nio.file.Paths;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Memory of another JVM process, as the benchmarks report it: heap after a full GC (jcmd), and RSS (/proc). */
final class JvmProbe {

    private JvmProbe() {
    }

    /** MiB of heap in use right after {@code jcmd GC.run} (all generations; not Metaspace). */
    static double heapAfterGcMb(long pid) throws Exception {
        String jcmd = Paths.get(System.getProperty("java.home"), "bin", "jcmd").toString();
        new ProcessBuilder(jcmd, Long.toString(pid), "GC.run").redirectErrorStream(true).start().waitFor();
        Process p = new ProcessBuilder(jcmd, Long.toString(pid), "GC.heap_info").redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        p.waitFor();
        return heapUsedKb(out) / 1024.0;
    }

    /** Sum of "used" over the heap's generations (serial: "def new generation" + "tenured generation", on 25 "DefNew" +
     * "Tenured"; G1: the heap line). */
    static long heapUsedKb(String heapInfo) {
        Matcher g1 = Pattern.compile("garbage-first heap\\s+total \\d+K, used (\\d+)K").matcher(heapInfo);
        if (g1.find()) {
            return Long.parseLong(g1.group(1));
        }
        long used = 0;
        Matcher gen = Pattern.compile("(?:generation|DefNew|Tenured)\\s+total \\d+K, used (\\d+)K").matcher(heapInfo);
        while (gen.find()) {
            used += Long.parseLong(gen.group(1));
        }
        return used;
    }

    static double rssMb(long pid) throws Exception {
        for (String line : Files.readAllLines(Paths.get("/proc", Long.toString(pid), "status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("\\D", "")) / 1024.0;
            }
        }
        return -1;
    }
}
