// GaleScram: the SASL user of the testenv Kafka. Run by testenv/backends/kafka.sh once per
// data dir (java's single-file source mode, with the broker's jars on the class path):
//
//   java -cp 'lib/*' GaleScram.java PLAINTEXT_BROKERS SASL_SSL_BROKERS CA_FILE USER PASSWORD_FILE
//
// It gives USER a SCRAM-SHA-512 credential (the Admin API, through the PLAINTEXT listener),
// then waits until USER authenticates on the SASL_SSL listener with SCRAM-SHA-512 and with
// PLAIN (whose user is in the broker's JAAS config), trusting only CA_FILE: when it exits 0,
// clients can log in with either mechanism. The password is read from PASSWORD_FILE, never
// taken from the command line, and never printed.
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ScramCredentialInfo;
import org.apache.kafka.clients.admin.ScramMechanism;
import org.apache.kafka.clients.admin.UserScramCredentialUpsertion;

public class GaleScram {
    public static void main(String[] args) throws Exception {
        if (args.length != 5) {
            System.err.println("usage: GaleScram PLAINTEXT_BROKERS SASL_SSL_BROKERS CA_FILE USER PASSWORD_FILE");
            System.exit(2);
        }
        String plain = args[0], sasl = args[1], ca = args[2], user = args[3];
        String password = Files.readString(Path.of(args[4])).trim();

        Properties p = new Properties();
        p.put("bootstrap.servers", plain);
        p.put("request.timeout.ms", "15000");
        try (Admin admin = Admin.create(p)) {
            admin.alterUserScramCredentials(List.of(new UserScramCredentialUpsertion(
                    user, new ScramCredentialInfo(ScramMechanism.SCRAM_SHA_512, 4096), password)))
                .all().get(30, TimeUnit.SECONDS);
        }
        System.out.println("SCRAM-SHA-512 credential of " + user + " set through " + plain);

        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        for (String mechanism : new String[] {"SCRAM-SHA-512", "PLAIN"}) {
            String module = mechanism.equals("PLAIN")
                ? "org.apache.kafka.common.security.plain.PlainLoginModule"
                : "org.apache.kafka.common.security.scram.ScramLoginModule";
            Properties s = new Properties();
            s.put("bootstrap.servers", sasl);
            s.put("security.protocol", "SASL_SSL");
            s.put("sasl.mechanism", mechanism);
            s.put("sasl.jaas.config", module + " required username=\"" + user + "\" password=\"" + password + "\";");
            s.put("ssl.truststore.type", "PEM");
            s.put("ssl.truststore.location", ca);
            s.put("request.timeout.ms", "5000");
            s.put("default.api.timeout.ms", "5000");
            for (int attempt = 1; ; attempt++) {
                try (Admin admin = Admin.create(s)) {
                    int n = admin.describeCluster().nodes().get(10, TimeUnit.SECONDS).size();
                    System.out.println(mechanism + " login of " + user + " on " + sasl + " works (" + n
                        + " broker, attempt " + attempt + ")");
                    break;
                } catch (ExecutionException | java.util.concurrent.TimeoutException e) {
                    if (System.nanoTime() > deadline) {
                        System.err.println(mechanism + " login of " + user + " on " + sasl + " still fails: " + e);
                        System.exit(1);
                    }
                    Thread.sleep(250);
                }
            }
        }
    }
}
