using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;

namespace Bert.Sharp.Tests.Serving;

/// <summary>
/// The sample's Kestrel limits (issue 21 row 9), on real Kestrel at 127.0.0.1 with small limits so each test takes a
/// few seconds: slow-drip connections are closed, and a batch over the character limit is refused before inference.
/// </summary>
public sealed class ClassifierApiLimitsTests
{
    private static readonly string[] SmallLimits =
    [
        "--ClassifierApi:RequestHeadersTimeout=00:00:01",
        "--ClassifierApi:MinRequestBodyBytesPerSecond=100",
        "--ClassifierApi:MinRequestBodyGracePeriod=00:00:02",
        "--ClassifierApi:MaxBatchCharacters=1000",
    ];

    // Sends `prefix`, then one byte of `drip` per interval until the server closes the connection (or the drip ends).
    private static async Task<(bool Closed, string Response, int BytesDripped)> DripAsync(Uri server, string prefix, string drip)
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(server.Host, server.Port);
        NetworkStream stream = tcp.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes(prefix));
        var received = new MemoryStream();
        Task reading = Task.Run(async () =>
        {
            byte[] buffer = new byte[4096];
            try
            {
                int n;
                while ((n = await stream.ReadAsync(buffer)) > 0)
                {
                    received.Write(buffer, 0, n);
                }
            }
            catch (IOException)
            {
                // Reset by the server: closed too.
            }
        });

        int sent = 0;
        foreach (byte b in Encoding.ASCII.GetBytes(drip))
        {
            if (reading.IsCompleted)
            {
                break;
            }

            try
            {
                await stream.WriteAsync(new[] { b });
                sent++;
            }
            catch (IOException)
            {
                break;
            }

            await Task.WhenAny(reading, Task.Delay(500));
        }

        // The drip is over (it lasts 20 s); a closed connection has finished reading.
        await Task.WhenAny(reading, Task.Delay(2000));
        return (reading.IsCompleted, Encoding.ASCII.GetString(received.ToArray()), sent);
    }

    [Fact]
    public async Task A_one_byte_per_interval_header_drip_is_closed()
    {
        await using ApiServer server = await ApiServer.StartAsync(TinyClassifierFolder.Create(), SmallLimits);
        (bool closed, string response, int dripped) = await DripAsync(server.Client.BaseAddress!, "GET /health HTTP/1.1\r\nHost: localhost\r\n", "X-Slow: " + new string('a', 32) + "\r\n\r\n");
        Assert.True(closed, $"the connection is still open after {dripped} header bytes at 2 bytes/s (RequestHeadersTimeout 1 s)");
        Assert.True(dripped < 40, $"{dripped} bytes were accepted before the close");
        Assert.DoesNotContain("200 OK", response, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_one_byte_per_interval_body_drip_is_closed()
    {
        await using ApiServer server = await ApiServer.StartAsync(TinyClassifierFolder.Create(), SmallLimits);
        string body = "{\"text\": \"" + new string('a', 30) + "\"}";
        string headers = $"POST /classify HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: {body.Length}\r\n\r\n";
        (bool closed, string response, int dripped) = await DripAsync(server.Client.BaseAddress!, headers, body);
        Assert.True(closed, $"the connection is still open after {dripped} body bytes at 2 bytes/s (MinRequestBodyDataRate 100 B/s, grace 2 s)");
        Assert.True(dripped < body.Length, $"the whole body ({dripped} bytes) was accepted");
        Assert.DoesNotContain("200 OK", response, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_batch_over_the_character_limit_is_413_problem_details_before_inference()
    {
        var fake = new FakeTextClassifier();
        await using ApiServer server = await ApiServer.StartAsync(TinyClassifierFolder.Create(), SmallLimits,
            builder => builder.Services.AddTextClassifier((_, _) => fake));
        string[] texts = [new string('a', 400), new string('b', 400), new string('c', 400)];
        using HttpResponseMessage response = await server.Client.PostAsJsonAsync("/classify/batch", new { texts });
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        JsonElement problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(413, problem.GetProperty("status").GetInt32());
        Assert.Contains("1200 characters; the limit is 1000 (ClassifierApi:MaxBatchCharacters)", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Empty(fake.Batches);
        Assert.Equal(0, fake.SingleCalls);

        // Under the limit the same route classifies.
        using HttpResponseMessage ok = await server.Client.PostAsJsonAsync("/classify/batch", new { texts = texts[..2] });
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        Assert.NotEmpty(fake.Batches);
    }
}
