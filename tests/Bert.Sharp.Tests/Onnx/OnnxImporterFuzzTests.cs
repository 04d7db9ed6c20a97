using System.Diagnostics;
using Bert.Sharp.Onnx;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Bert.Sharp.Tests.Onnx;

/// <summary>
/// Mutation fuzzing of the importer's parse and extraction on a tiny exported model: bit flips, overwritten bytes,
/// truncation, duplicated and deleted chunks, boundary values in length prefixes. Every input must either import or
/// fail with an InvalidDataException; nothing else (no crash, no other exception type).
/// </summary>
public sealed class OnnxImporterFuzzTests(ITestOutputHelper output)
{
    private const int Iterations = 10_000;

    [Fact]
    public void Ten_thousand_mutated_exports_either_import_or_fail_with_InvalidDataException()
    {
        byte[] original = TinyOnnxModel.StandardOnnx;
        var random = new Random(20261201);
        int accepted = 0, refused = 0;
        var watch = Stopwatch.StartNew();
        for (int i = 0; i < Iterations; i++)
        {
            byte[] mutated = Mutate(original, random);
            try
            {
                var graph = OnnxModelReader.Read(mutated, $"mutant-{i}").Graph;
                (Dictionary<string, Tensor> state, _) = new OnnxBertExtractor(graph, $"mutant-{i}", NullLogger.Instance).Extract(CancellationToken.None);
                foreach (Tensor t in state.Values)
                {
                    t.Dispose();
                }

                accepted++;
            }
            catch (InvalidDataException)
            {
                refused++;
            }
            catch (Exception e)
            {
                Assert.Fail($"Mutant {i} (seed 20261201) threw {e.GetType().Name}: {e.Message}\n{e.StackTrace}");
            }
        }

        output.WriteLine($"{Iterations} mutants of a {original.Length:N0}-byte export: {accepted} imported, {refused} refused with InvalidDataException, 0 other outcomes, in {watch.Elapsed.TotalSeconds:F1} s");
        Assert.Equal(Iterations, accepted + refused);
        Assert.True(refused > 0 && accepted > 0, "the mutations should both break and spare the model");
    }

    private static byte[] Mutate(byte[] source, Random random)
    {
        byte[] bytes = (byte[])source.Clone();
        int edits = 1 + random.Next(4);
        for (int e = 0; e < edits; e++)
        {
            int at = random.Next(bytes.Length);
            switch (random.Next(6))
            {
                case 0:
                    bytes[at] ^= (byte)(1 << random.Next(8));
                    break;
                case 1:
                    bytes[at] = (byte)(random.Next(4) switch { 0 => 0x00, 1 => 0xFF, 2 => 0x7F, _ => 0x80 });
                    break;
                case 2:
                    bytes = bytes[..at];
                    break;
                case 3:
                    int length = Math.Min(1 + random.Next(64), bytes.Length - at);
                    bytes = [.. bytes[..(at + length)], .. bytes[at..(at + length)], .. bytes[(at + length)..]];
                    break;
                case 4:
                    bytes = [.. bytes[..at], .. bytes[Math.Min(bytes.Length, at + 1 + random.Next(32))..]];
                    break;
                default:
                    // A varint of maximal length where a length prefix or dimension may be.
                    bytes = [.. bytes[..at], 0xFF, 0xFF, 0xFF, 0xFF, 0x0F, .. bytes[Math.Min(bytes.Length, at + 1)..]];
                    break;
            }

            if (bytes.Length == 0)
            {
                break;
            }
        }

        return bytes;
    }
}
