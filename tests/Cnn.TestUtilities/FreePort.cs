using System.Net;
using System.Net.Sockets;

namespace Cnn.Tests;

/// <summary>A loopback port nothing listens on now, for a server a test starts on a fixed address (HttpListener, podman).</summary>
public static class FreePort
{
    public static int Next()
    {
        var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        int port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        return port;
    }
}
