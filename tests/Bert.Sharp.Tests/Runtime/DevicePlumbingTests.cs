using System.Text.RegularExpressions;
using Bert.Sharp.Attention;
using Bert.Sharp.Modeling;
using Bert.Sharp.Runtime;
using Bert.Sharp.Tests.TestSupport;
using TorchSharp;
using static TorchSharp.torch;

namespace Bert.Sharp.Tests.Runtime;

/// <summary>
/// The CUDA crash class (a CPU generator handed to a device draw, a host read of device memory) caught on the CPU: the
/// <c>meta</c> device stands in for a device without host memory, a generator that claims another device stands in for
/// a CUDA generator, and a source scan keeps every random draw and host read behind <see cref="DeviceRandom"/> and
/// <see cref="HostRead"/>.
/// </summary>
public class DevicePlumbingTests
{
    private static readonly Device Meta = new(DeviceType.META);

    [Fact]
    public void Dropout_of_a_device_tensor_with_the_runs_cpu_generator_stays_on_that_device()
    {
        using var scope = NewDisposeScope();
        using var generator = new Generator(5);
        Tensor input = ones([4, 8], ScalarType.Float32, Meta);
        using (DropoutRandomness.Use(generator))
        {
            Tensor output = FastDropout.Apply(input, 0.25);
            Assert.Equal(DeviceType.META, output.device_type);
            Assert.Equal(input.shape, output.shape);
        }
    }

    [Fact]
    public void Dropout_refuses_a_generator_on_another_device_and_names_both()
    {
        using var scope = NewDisposeScope();
        // TorchSharp 0.107 records the device it is given (its native generator is a CPU one whatever it is told):
        // a generator that says cuda is what a CUDA generator looks like to the library.
        using var generator = new Generator(5, new Device(DeviceType.CUDA));
        Tensor input = ones([4, 8]);
        using (DropoutRandomness.Use(generator))
        {
            InvalidOperationException e = Assert.Throws<InvalidOperationException>(() => FastDropout.Apply(input, 0.25));
            Assert.Contains("cuda", e.Message, StringComparison.Ordinal);
            Assert.Contains("cpu", e.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Guard_names_the_generator_and_tensor_devices()
    {
        using var generator = new Generator(1);
        InvalidOperationException e = Assert.Throws<InvalidOperationException>(() => DeviceRandom.RequireGeneratorOn(generator, Meta, "draw"));
        Assert.Contains("'cpu'", e.Message, StringComparison.Ordinal);
        Assert.Contains("'meta'", e.Message, StringComparison.Ordinal);
        DeviceRandom.RequireGeneratorOn(generator, CPU, "draw"); // same device: no exception
    }

    // Eager only: LibTorch 2.10's fused attention has no meta kernel with dropout (the sdpa path is left for the GPU check).
    [Theory]
    [InlineData("eager")]
    public void Attention_dropout_on_a_device_draws_there_from_the_runs_generator(string kernel)
    {
        using var scope = NewDisposeScope();
        using var generator = new Generator(3);
        Tensor q = ones([2, 4, 6, 8], ScalarType.Float32, Meta);
        using (DropoutRandomness.Use(generator))
        {
            // No padding mask: LibTorch 2.10 has no meta kernel for logical_not / where, which masking uses.
            (Tensor context, _) = AttentionKernels.Get(kernel).Compute(q, q, q, null, 0.1, returnProbabilities: false);
            Assert.Equal(DeviceType.META, context.device_type);
            Assert.Equal(q.shape, context.shape);
        }
    }

    [Fact]
    public void Cpu_dropout_keys_are_unchanged_by_the_guard()
    {
        // The key CpuDropoutMask uses: one int64 draw from the generator times the golden ratio constant, as before.
        using var a = new Generator(11);
        using var b = new Generator(11);
        using Tensor draw = randint(long.MaxValue, [1], ScalarType.Int64, CPU, generator: b);
        ulong expected = unchecked((ulong)draw.item<long>() * 0x9E3779B97F4A7C15UL);
        Assert.Equal(expected, DeviceRandom.DrawKey(a));
    }

    [Fact]
    public void Initial_values_for_another_device_are_the_cpus_values()
    {
        using var scope = NewDisposeScope();
        using var g1 = new Generator(7);
        using var g2 = new Generator(7);
        Tensor onCpu = DeviceRandom.Uniform([3, 5], ScalarType.Float32, CPU, g1);
        Tensor onMeta = DeviceRandom.Uniform([3, 5], ScalarType.Float32, Meta, g2);
        Assert.Equal(DeviceType.META, onMeta.device_type);
        // Both generators advanced by the same draw: the meta tensor was drawn on the CPU and copied.
        Assert.Equal(DeviceRandom.DrawKey(g1), DeviceRandom.DrawKey(g2));
        Tensor target = zeros([3, 5], ScalarType.Float32, Meta);
        DeviceRandom.NormalInPlace(target, 0, 0.02, g2);
        Assert.Equal(DeviceType.META, target.device_type);
        Assert.True(onCpu.ge(0).all().item<bool>());
    }

    [Fact]
    public void Host_reads_copy_to_the_cpu_and_refuse_devices_without_values()
    {
        using var scope = NewDisposeScope();
        Tensor t = arange(6, ScalarType.Int64).reshape(2, 3).t(); // not contiguous
        Assert.Equal([0L, 3, 1, 4, 2, 5], HostRead.Values<long>(t));
        Assert.Equal(4L, HostRead.Item<long>(tensor(4L)));
        InvalidOperationException e = Assert.Throws<InvalidOperationException>(() => HostRead.Values<float>(ones([2, 3], ScalarType.Float32, Meta)));
        Assert.Contains("meta", e.Message, StringComparison.Ordinal);
        Assert.Contains("[2, 3]", e.Message, StringComparison.Ordinal);
        Assert.Throws<InvalidOperationException>(() => HostRead.Item<float>(ones([1], ScalarType.Float32, Meta)));
    }

    /// <summary>
    /// An analyzer over src/: host reads (<c>data&lt;T&gt;</c>, <c>item&lt;T&gt;</c>) only in HostRead.cs; draws with a
    /// generator and <c>rand_like</c>-style draws only in DeviceRandom.cs; no generator told a device (TorchSharp makes
    /// CPU generators whatever it is told, so the device it records would be false).
    /// </summary>
    [Fact]
    public void Random_draws_and_host_reads_go_through_the_device_guards()
    {
        var rules = new (Regex Pattern, string AllowedFile, string Why)[]
        {
            (new Regex(@"\.(data|item)<", RegexOptions.Compiled), "HostRead.cs", "host reads must copy device tensors to the CPU first: use HostRead"),
            (new Regex(@"\bgenerator:\s*[A-Za-z_]", RegexOptions.Compiled), "DeviceRandom.cs", "a draw with a generator must check the generator's device: use DeviceRandom"),
            (new Regex(@"nn\.init\.\w+_\([^;]*,\s*generator\s*\)", RegexOptions.Compiled), "DeviceRandom.cs", "an initialiser with a generator must draw on the generator's device: use DeviceRandom"),
            (new Regex(@"\b(rand|randn|randint)_like\(|\.bernoulli_?\(|\bbernoulli\(", RegexOptions.Compiled), "DeviceRandom.cs", "device draws must be seeded from the run's generator: use DeviceRandom"),
            (new Regex(@"new Generator\([^)]*,", RegexOptions.Compiled), "", "TorchSharp 0.107 creates CPU generators only; a device argument makes its recorded device false"),
        };
        var violations = new List<string>();
        string src = RepositoryPaths.Combine("src");
        foreach (string file in Directory.EnumerateFiles(src, "*.cs", SearchOption.AllDirectories))
        {
            if (file.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                || file.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            {
                continue;
            }

            string[] lines = File.ReadAllLines(file);
            for (int i = 0; i < lines.Length; i++)
            {
                // Code only: comments (whole-line and trailing) may name these calls.
                string line = lines[i].TrimStart();
                int comment = line.IndexOf("//", StringComparison.Ordinal);
                line = comment >= 0 ? line[..comment] : line;
                if (line.Length == 0)
                {
                    continue;
                }

                foreach ((Regex pattern, string allowed, string why) in rules)
                {
                    if (pattern.IsMatch(line) && (allowed.Length == 0 || Path.GetFileName(file) != allowed))
                    {
                        violations.Add($"{Path.GetRelativePath(src, file)}:{i + 1}: {why}: {line}");
                    }
                }
            }
        }

        Assert.True(violations.Count == 0, string.Join(Environment.NewLine, violations));
    }

    [Fact]
    public void The_scan_catches_the_code_that_crashed_on_cuda()
    {
        // The line FastDropout had before the guard (segmentation fault on CUDA) and TokenClassificationTask's read.
        Assert.Matches(@"\bgenerator:\s*[A-Za-z_]", "rand(input.shape, input.dtype, input.device, generator: generator)");
        Assert.Matches(@"\.(data|item)<", "long[] flat = best.data<long>().ToArray();");
    }
}
