using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace Bert.Sharp.Tests.Fuzzing;

/// <summary>
/// Deterministic byte- and text-level mutations: the same <see cref="Random"/> seed gives the same input, so a failure
/// is reproduced from the seed its message names.
/// </summary>
internal static partial class ByteMutator
{
    // Values that break size arithmetic: zero, signs, 2^31, 2^32, 2^62 and friends.
    private static readonly ulong[] InterestingIntegers =
    [
        0, 1, 0x7F, 0x80, 0xFF, 0x7FFF, 0xFFFF, 0x7FFF_FFFF, 0x8000_0000, 0xFFFF_FFFF, 0x1_0000_0000,
        0x4000_0000_0000_0000, 0x7FFF_FFFF_FFFF_FFFF, 0x8000_0000_0000_0000, 0xFFFF_FFFF_FFFF_FFFF, 1_000_000_000,
    ];

    private static readonly string[] InterestingNumbers =
    [
        "0", "-1", "1", "2147483647", "2147483648", "-2147483649", "4294967296", "9223372036854775807",
        "9223372036854775808", "1e308", "-1e308", "1e-320", "1.5", "100000000", "1000000000", "NaN", "99999999999999999999",
    ];

    /// <summary>Applies one to three random mutations; <paramref name="log"/> receives what was done.</summary>
    public static byte[] Mutate(byte[] input, IReadOnlyList<byte[]> corpus, Random rng, List<string> log)
    {
        byte[] data = input;
        int count = 1 + rng.Next(3);
        for (int i = 0; i < count; i++)
        {
            data = MutateOnce(data, corpus, rng, log);
        }

        return data;
    }

    private static byte[] MutateOnce(byte[] data, IReadOnlyList<byte[]> corpus, Random rng, List<string> log)
    {
        int at = data.Length == 0 ? 0 : rng.Next(data.Length);
        switch (rng.Next(11))
        {
            case 0 when data.Length > 0:
            {
                byte[] copy = (byte[])data.Clone();
                int bit = rng.Next(8);
                copy[at] ^= (byte)(1 << bit);
                log.Add($"flip bit {bit} of byte {at}");
                return copy;
            }

            case 1 when data.Length > 0:
            {
                byte[] copy = (byte[])data.Clone();
                copy[at] = (byte)rng.Next(256);
                log.Add($"set byte {at} to {copy[at]}");
                return copy;
            }

            case 2:
            {
                byte[] inserted = new byte[1 + rng.Next(16)];
                rng.NextBytes(inserted);
                log.Add($"insert {inserted.Length} random bytes at {at}");
                return [.. data.AsSpan(0, at), .. inserted, .. data.AsSpan(at)];
            }

            case 3 when data.Length > 0:
            {
                int length = Math.Min(data.Length - at, 1 + rng.Next(32));
                log.Add($"delete {length} bytes at {at}");
                return [.. data.AsSpan(0, at), .. data.AsSpan(at + length)];
            }

            case 4:
                log.Add($"truncate to {at} bytes");
                return data[..at];

            case 5 when data.Length > 0:
            {
                int length = Math.Min(data.Length - at, 1 + rng.Next(64));
                int to = rng.Next(data.Length);
                log.Add($"copy {length} bytes from {at} to {to}");
                return [.. data.AsSpan(0, to), .. data.AsSpan(at, length), .. data.AsSpan(to)];
            }

            case 6 when data.Length >= 8:
            {
                // Length-field inflation: an interesting 1/2/4/8-byte little-endian integer at a random offset.
                byte[] copy = (byte[])data.Clone();
                int width = 1 << rng.Next(4);
                int offset = rng.Next(data.Length - width + 1);
                ulong value = InterestingIntegers[rng.Next(InterestingIntegers.Length)];
                if (rng.Next(4) == 0)
                {
                    value = (ulong)data.Length + (ulong)rng.Next(-8, 9); // near the file's own length
                }

                Span<byte> bytes = stackalloc byte[8];
                BinaryPrimitives.WriteUInt64LittleEndian(bytes, value);
                bytes[..width].CopyTo(copy.AsSpan(offset));
                log.Add($"write {value} as {width} bytes at {offset}");
                return copy;
            }

            case 7:
            {
                byte[] other = corpus[rng.Next(corpus.Count)];
                int cut = other.Length == 0 ? 0 : rng.Next(other.Length);
                log.Add($"splice: first {at} bytes + another corpus file from {cut}");
                return [.. data.AsSpan(0, at), .. other.AsSpan(cut)];
            }

            case 8:
                return InflateNumber(data, rng, log);

            case 9 when data.Length > 0:
            {
                int length = Math.Min(data.Length - at, 1 + rng.Next(16));
                int times = 2 + rng.Next(200);
                log.Add($"repeat {length} bytes at {at} {times} times");
                var repeated = new List<byte>(data.Length + (length * times));
                repeated.AddRange(data.AsSpan(0, at));
                for (int i = 0; i < times; i++)
                {
                    repeated.AddRange(data.AsSpan(at, length));
                }

                repeated.AddRange(data.AsSpan(at));
                return [.. repeated];
            }

            default:
            {
                byte[] copy = (byte[])data.Clone();
                log.Add("no-op");
                return copy;
            }
        }
    }

    // Text-level length inflation: a run of digits becomes an extreme number.
    private static byte[] InflateNumber(byte[] data, Random rng, List<string> log)
    {
        string text = Encoding.Latin1.GetString(data);
        MatchCollection numbers = Digits().Matches(text);
        if (numbers.Count == 0)
        {
            log.Add("no number to inflate");
            return data;
        }

        Match number = numbers[rng.Next(numbers.Count)];
        string replacement = InterestingNumbers[rng.Next(InterestingNumbers.Length)];
        log.Add(string.Create(CultureInfo.InvariantCulture, $"number at {number.Index} becomes {replacement}"));
        return Encoding.Latin1.GetBytes(string.Concat(text.AsSpan(0, number.Index), replacement, text.AsSpan(number.Index + number.Length)));
    }

    [GeneratedRegex("-?[0-9]+")]
    private static partial Regex Digits();
}
