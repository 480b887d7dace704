// GaleMiniDFS starts a NameNode and a DataNode in one JVM (Hadoop's
// MiniDFSCluster) for Gale's integration tests: RPC and HTTP (WebHDFS) on
// fixed loopback ports, permissions off, replication 1, data kept in BASEDIR
// across restarts (formatted only the first time). Compiled and run by
// testenv/backends/hdfs.sh.
//
//   java -cp 'lib/*:.' GaleMiniDFS BASEDIR RPC_PORT HTTP_PORT
//
// It prints "GALE-HDFS-READY" once the cluster is active, then runs until it
// is killed.
import java.io.File;

import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.hdfs.MiniDFSCluster;

public final class GaleMiniDFS {
    private GaleMiniDFS() {}

    public static void main(String[] args) throws Exception {
        if (args.length != 3) {
            System.err.println("usage: GaleMiniDFS BASEDIR RPC_PORT HTTP_PORT");
            System.exit(2);
        }
        File base = new File(args[0]);
        int rpcPort = Integer.parseInt(args[1]);
        int httpPort = Integer.parseInt(args[2]);
        // MiniDFSCluster names its NameNode directories name-<nn>-<dir>
        // (Hadoop 3; name1 in Hadoop 2): format only when there is none
        boolean format = !new File(base, "name-0-1").exists() && !new File(base, "name1").exists();

        Configuration conf = new Configuration();
        conf.set(MiniDFSCluster.HDFS_MINIDFS_BASEDIR, base.getAbsolutePath());
        conf.setBoolean("dfs.permissions.enabled", false);
        conf.setInt("dfs.replication", 1);
        conf.setBoolean("dfs.webhdfs.enabled", true);
        // everything on loopback, and clients told to use 127.0.0.1
        conf.set("dfs.namenode.rpc-address", "127.0.0.1:" + rpcPort);
        conf.set("dfs.namenode.http-address", "127.0.0.1:" + httpPort);
        conf.set("dfs.datanode.hostname", "127.0.0.1");
        conf.setBoolean("dfs.datanode.use.datanode.hostname", false);
        conf.setBoolean("dfs.client.use.datanode.hostname", false);
        // small and quick on a 2-core machine
        conf.setInt("dfs.namenode.handler.count", 4);
        conf.setInt("dfs.datanode.handler.count", 4);
        conf.setLong("dfs.blocksize", 8L * 1024 * 1024);
        conf.setInt("dfs.namenode.safemode.extension", 0);

        MiniDFSCluster cluster = new MiniDFSCluster.Builder(conf, base)
            .nameNodePort(rpcPort)
            .nameNodeHttpPort(httpPort)
            .numDataNodes(1)
            .format(format)
            .manageNameDfsDirs(true)
            .manageDataDfsDirs(true)
            .waitSafeMode(true)
            .build();
        cluster.waitActive();
        Runtime.getRuntime().addShutdownHook(new Thread(cluster::shutdown));
        System.out.println("GALE-HDFS-READY rpc=127.0.0.1:" + rpcPort + " http=127.0.0.1:" + httpPort
            + " formatted=" + format);
        System.out.flush();
        Thread.currentThread().join();
    }
}
