using System.Globalization;
using System.Net.Sockets;
using System.Text;

namespace Bert.Sharp.Tests.Hub;

// The HTTP/1.1 wire format of the fake hub: status lines, headers and bodies written, request heads read.
internal sealed partial class FakeHub
{
    private static Task WriteErrorAsync(NetworkStream stream, int status, string code, Request request) =>
        WriteAsync(stream, status, [("X-Error-Code", code), ("X-Error-Message", $"{code} (fake hub)")], Encoding.UTF8.GetBytes(code), request.Method);

    private static async Task WriteAsync(NetworkStream stream, int status, IReadOnlyList<(string, string)> headers, byte[]? body, string method)
    {
        await WriteHeadAsync(stream, status, headers, body?.Length ?? 0);
        if (body is not null && method != "HEAD")
        {
            await stream.WriteAsync(body);
        }

        await stream.FlushAsync();
    }

    private static async Task WriteHeadAsync(NetworkStream stream, int status, IEnumerable<(string Name, string Value)> headers, long? contentLength)
    {
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"HTTP/1.1 {status} {ReasonPhrase(status)}\r\nConnection: close\r\n");
        if (contentLength is long length)
        {
            text.Append(CultureInfo.InvariantCulture, $"Content-Length: {length}\r\n");
        }

        foreach ((string name, string value) in headers)
        {
            text.Append(CultureInfo.InvariantCulture, $"{name}: {value}\r\n");
        }

        text.Append("\r\n");
        await stream.WriteAsync(Encoding.ASCII.GetBytes(text.ToString()));
    }

    private static string ReasonPhrase(int status) => status switch
    {
        200 => "OK",
        206 => "Partial Content",
        302 => "Found",
        307 => "Temporary Redirect",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        416 => "Range Not Satisfiable",
        _ => "Status",
    };

    private static async Task<string> ReadHeadAsync(NetworkStream stream)
    {
        var buffer = new List<byte>();
        var one = new byte[1];
        while (buffer.Count < 65536)
        {
            if (await stream.ReadAsync(one) == 0)
            {
                break;
            }

            buffer.Add(one[0]);
            int n = buffer.Count;
            if (n >= 4 && buffer[n - 4] == '\r' && buffer[n - 3] == '\n' && buffer[n - 2] == '\r' && buffer[n - 1] == '\n')
            {
                break;
            }
        }

        return Encoding.ASCII.GetString(buffer.ToArray()).TrimEnd();
    }
}
