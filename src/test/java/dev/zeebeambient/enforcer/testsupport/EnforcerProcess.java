package dev.zeebeambient.enforcer.testsupport;

import java.util.Map;

/** A running enforcer the tests drive from outside: the packaged jar ({@link Replica}) or the image ({@link ImageRun}). */
public interface EnforcerProcess extends AutoCloseable {

    /** GET on the management port: status code and body, or -1 when nothing answers. */
    Map.Entry<Integer, String> get(String path);

    boolean ready();

    /** The process (container) still runs. */
    boolean alive();

    boolean leads();

    /** SIGTERM, as the kubelet sends it; waits for the exit; returns the exit code. */
    int terminate(int seconds) throws InterruptedException;

    /** Everything it printed so far. */
    String log();

    @Override
    void close();
}
