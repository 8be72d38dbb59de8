package dev.zeebeambient.enforcer.testsupport;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A TCP proxy between the enforcer and the API server (TLS passes through untouched), to stand in for the network:
 * {@link #blackhole()} keeps connections open but moves no byte (a partition: nothing is refused, everything times
 * out), {@link #cut()} closes every connection and refuses new ones, {@link #delay} adds latency to each chunk read
 * from the client, {@link #heal()} returns to normal. The API server still reaches the webhook directly.
 */
public final class TcpProxy implements AutoCloseable {

    public enum Mode {
        PASS, BLACKHOLE, CUT
    }

    private final ServerSocket server;
    private final int target;
    private final Set<Socket> open = ConcurrentHashMap.newKeySet();
    private volatile Mode mode = Mode.PASS;
    private volatile long delayMillis;
    private final AtomicLong connections = new AtomicLong();
    private final Thread acceptor;

    public TcpProxy(int targetPort) throws IOException {
        this.target = targetPort;
        this.server = new ServerSocket(0, 200, InetAddress.getLoopbackAddress());
        this.acceptor = new Thread(this::accept, "tcp-proxy-" + server.getLocalPort());
        acceptor.setDaemon(true);
        acceptor.start();
    }

    public int port() {
        return server.getLocalPort();
    }

    public long connections() {
        return connections.get();
    }

    public void blackhole() {
        mode = Mode.BLACKHOLE;
    }

    /** Closes every open connection; new ones are closed at once until {@link #heal()}. */
    public void cut() {
        mode = Mode.CUT;
        closeAll();
    }

    public void delay(long millis) {
        delayMillis = millis;
    }

    /** Back to normal; connections held during a blackhole are closed (as a partition's would time out). */
    public void heal() {
        boolean wasBlackhole = mode == Mode.BLACKHOLE;
        delayMillis = 0;
        mode = Mode.PASS;
        if (wasBlackhole) {
            closeAll();
        }
    }

    private void closeAll() {
        for (Socket s : open) {
            try {
                s.close();
            } catch (IOException ignored) {
                // closing anyway
            }
        }
        open.clear();
    }

    private void accept() {
        while (!server.isClosed()) {
            try {
                Socket client = server.accept();
                connections.incrementAndGet();
                if (mode == Mode.CUT) {
                    client.close();
                    continue;
                }
                Socket upstream = new Socket();
                try {
                    upstream.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), target), 5000);
                } catch (IOException refused) {
                    client.close(); // the API server is down: refused, as a real connection would be
                    continue;
                }
                open.add(client);
                open.add(upstream);
                pump(client, upstream, true);
                pump(upstream, client, false);
            } catch (IOException e) {
                if (server.isClosed()) {
                    return;
                }
            }
        }
    }

    private void pump(Socket from, Socket to, boolean delayed) {
        Thread t = new Thread(() -> {
            byte[] buf = new byte[16 * 1024];
            try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
                int n;
                while ((n = in.read(buf)) >= 0) {
                    while (mode == Mode.BLACKHOLE && !from.isClosed()) {
                        Thread.sleep(20); // hold the bytes: nothing moves, nothing is refused
                    }
                    if (mode == Mode.CUT) {
                        break;
                    }
                    long d = delayMillis;
                    if (delayed && d > 0) {
                        Thread.sleep(d);
                    }
                    out.write(buf, 0, n);
                    out.flush();
                }
            } catch (IOException | InterruptedException e) {
                // connection ended
            } finally {
                try {
                    from.close();
                    to.close();
                } catch (IOException ignored) {
                    // closing anyway
                }
                open.remove(from);
                open.remove(to);
            }
        }, "tcp-proxy-pump");
        t.setDaemon(true);
        t.start();
    }

    @Override
    public void close() throws IOException {
        server.close();
        closeAll();
    }
}
