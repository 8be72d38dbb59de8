package dev.zeebeambient.enforcer.testsupport;

import java.io.IOException;
import java.net.HttpURLConnection;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.Map;

/** A plain HTTP GET for processes the tests start (enforcer replicas, istiod): status and body, or -1 when nothing answers. */
public final class HttpGet {

    private HttpGet() {
    }

    public static Map.Entry<Integer, String> get(String url, int readTimeoutMillis) {
        try {
            HttpURLConnection c = (HttpURLConnection) URI.create(url).toURL().openConnection();
            c.setConnectTimeout(500);
            c.setReadTimeout(readTimeoutMillis);
            int code = c.getResponseCode();
            var in = code >= 400 ? c.getErrorStream() : c.getInputStream();
            return Map.entry(code, in == null ? "" : new String(in.readAllBytes(), StandardCharsets.UTF_8));
        } catch (IOException e) {
            return Map.entry(-1, e.toString());
        }
    }
}
