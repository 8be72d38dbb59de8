package dev.zeebeambient.enforcer.lifecycle;

import org.jboss.logmanager.ExtLogRecord;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.SocketException;
import java.util.logging.Level;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What operators read during faults: a library's warning with an exception as one line; our lines and errors untouched. */
class OneLineLibraryWarningsTest {

    static ExtLogRecord record(Level level, String logger, String message, Throwable t) {
        ExtLogRecord r = new ExtLogRecord(level, message, ExtLogRecord.FormatStyle.NO_FORMAT, OneLineLibraryWarningsTest.class.getName());
        r.setLoggerName(logger);
        r.setThrown(t);
        return r;
    }

    @Test
    void aLibraryWarningBecomesOneLineWithItsCauses() {
        ExtLogRecord r = record(Level.WARNING, "io.fabric8.kubernetes.client.extended.leaderelection.LeaderElector",
                "Exception occurred while acquiring lock 'LeaseLock: ns - lease (pod)' retrying...",
                new IllegalStateException("renew failed", new IOException("stream was reset: CANCEL")));
        assertTrue(new OneLineLibraryWarnings().isLoggable(r));
        assertNull(r.getThrown());
        assertEquals("Exception occurred while acquiring lock 'LeaseLock: ns - lease (pod)' retrying... (IllegalStateException: renew failed; "
                + "IOException: stream was reset: CANCEL)", r.getFormattedMessage());
    }

    @Test
    void ourLinesAndErrorsKeepTheirStackTrace() {
        ExtLogRecord ours = record(Level.WARNING, "dev.zeebeambient.enforcer.kube.Watches", "watch failed", new IOException("x"));
        ExtLogRecord error = record(Level.SEVERE, "io.fabric8.kubernetes.client.Foo", "boom", new IllegalStateException("y"));
        assertTrue(new OneLineLibraryWarnings().isLoggable(ours));
        assertTrue(new OneLineLibraryWarnings().isLoggable(error));
        assertNotNull(ours.getThrown());
        assertNotNull(error.getThrown());
    }

    @Test
    void aPeersConnectionResetIsAWarning() {
        ExtLogRecord r = record(Level.SEVERE, "io.vertx.core.net.impl.ConnectionBase", "Connection reset", new SocketException("Connection reset"));
        assertTrue(new OneLineLibraryWarnings().isLoggable(r));
        assertEquals(Level.WARNING, r.getLevel());
        assertNull(r.getThrown());
        assertTrue(r.getFormattedMessage().startsWith("a connection was reset by its peer"), r.getFormattedMessage());
    }

    @Test
    void aLongCauseChainIsCut() {
        String causes = OneLineLibraryWarnings.causes(new IOException("x".repeat(2000)));
        assertEquals(OneLineLibraryWarnings.MAX, causes.length());
        assertTrue(causes.endsWith("...)"));
    }
}
