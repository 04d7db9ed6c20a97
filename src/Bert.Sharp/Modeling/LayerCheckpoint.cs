using Bert.Sharp.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace Bert.Sharp.Modeling;

/// <summary>
/// Gradient checkpointing of one encoder layer (PyTorch's re-entrant <c>torch.utils.checkpoint</c>, which TorchSharp 0.107
/// lacks) as a custom autograd function: the forward keeps only the layer's input and runs the layer without autograd; the
/// backward runs it again with autograd and back-propagates through that recomputation.
/// </summary>
/// <remarks>
/// The recomputation must be the same computation: the dropout generator's state (the run's generator from
/// <see cref="DropoutRandomness"/>, else torch's global CPU one; off the CPU without a run, a CPU generator of the layer's own)
/// and the autocast state are captured in the forward and put
/// back for the recomputation, so dropout draws the same masks and the same ops run in bf16. Parameter gradients accumulate
/// into <c>.grad</c> as usual. Each backward runs in its own dispose scope, so a layer's recomputed activations are freed
/// before the next layer's backward — that is the memory saving.
/// </remarks>
internal sealed class LayerCheckpoint : autograd.SingleTensorFunction<LayerCheckpoint>
{
    /// <inheritdoc />
    public override string Name => nameof(LayerCheckpoint);

    /// <summary>
    /// <paramref name="layer"/>(<paramref name="input"/>) without keeping the layer's activations for the backward pass.
    /// </summary>
    /// <remarks>An input that does not require a gradient (frozen layers below) is given one, or autograd would never call the backward.</remarks>
    public static Tensor Run(Tensor input, Func<Tensor, Tensor> layer)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(layer);
        Tensor tracked = input.requires_grad ? input : input.detach().requires_grad_(true);
        return AutogradFunctionScope.Apply(() => apply(tracked, new Replay(layer)));
    }

    /// <inheritdoc />
    public override Tensor forward(autograd.AutogradContext ctx, params object[] vars)
    {
        ArgumentNullException.ThrowIfNull(ctx);
        ArgumentNullException.ThrowIfNull(vars);
        var input = (Tensor)vars[0];
        var replay = (Replay)vars[1];
        replay.Capture(input.device.type);
        // No zero gradient is ever built from TorchSharp's output cache (see AutogradFunctionScope).
        ctx.set_materialize_grads(false);
        ctx.save_for_backward([input]);
        ctx.save_data(nameof(Replay), replay);
        using var scope = NewDisposeScope();
        using DropoutRandomness.Scope randomness = DropoutRandomness.Use(replay.Generator);
        return replay.Layer(input).MoveToOuterDisposeScope();
    }

    /// <inheritdoc />
    public override List<Tensor> backward(autograd.AutogradContext ctx, Tensor gradOutput)
    {
        ArgumentNullException.ThrowIfNull(ctx);
        var replay = (Replay)ctx.get_data(nameof(Replay));
        if (gradOutput.IsInvalid)
        {
            // The layer's output did not reach the loss: nothing to propagate, and no recomputation.
            replay.Restore().Dispose();
            return [null!, null!];
        }

        using var scope = NewDisposeScope();
        Tensor input = ctx.get_saved_variables()[0].detach().requires_grad_(true);
        Tensor output;
        using (enable_grad())
        using (replay.Restore())
        {
            output = replay.Layer(input);
        }

        autograd.backward([output], [gradOutput]);
        // One gradient per argument of apply: the input's, and none for the replay state.
        return [input.grad!.detach().MoveToOuterDisposeScope(), null!];
    }

    /// <summary>What the recomputation must see as the forward did: the layer, the dropout generator state, autocast.</summary>
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "An owned generator is disposed after the one recomputation (Restore); a replay whose backward never runs leaves it to the finalizer.")]
    private sealed class Replay(Func<Tensor, Tensor> layer)
    {
        private Generator? generator;
        private bool ownsGenerator;
        private Tensor? randomState;
        private TorchSharp.DeviceType device;
        private bool autocast;
        private ScalarType autocastDtype;

        public Func<Tensor, Tensor> Layer { get; } = layer;

        /// <summary>The generator the forward and its recomputation draw dropout from.</summary>
        public Generator? Generator => generator;

        public void Capture(TorchSharp.DeviceType deviceType)
        {
            device = deviceType;
            generator = DropoutRandomness.Current;
            if (generator is null && deviceType != TorchSharp.DeviceType.CPU)
            {
                // Off the CPU, torch's global generator for that device cannot be saved and restored through TorchSharp 0.107:
                // the layer draws from a CPU generator of its own instead (seeded from the global CPU one), which
                // DeviceRandom turns into device draws and whose state the recomputation can restore.
                generator = new Generator(Runtime.DeviceRandom.DrawKey(null));
                ownsGenerator = true;
            }

            randomState = (generator is null ? random.get_rng_state() : generator.get_state()).DetachFromDisposeScope();
            autocast = deviceType is TorchSharp.DeviceType.CPU or TorchSharp.DeviceType.CUDA && LibTorchAutocast.IsEnabled(deviceType);
            autocastDtype = autocast ? LibTorchAutocast.GetDtype(deviceType) : ScalarType.Float32;
        }

        // Sets the captured state (on whatever thread autograd runs the backward) and puts the current one back afterwards.
        public Restorer Restore()
        {
            Tensor current = generator is null ? random.get_rng_state() : generator.get_state();
            SetRandomState(randomState!);
            randomState!.Dispose();
            randomState = null;
            DropoutRandomness.Scope randomness = DropoutRandomness.Use(generator);
            LibTorchAutocast.Scope? cast = autocast ? LibTorchAutocast.Enter(device, autocastDtype) : null;
            return new Restorer(() =>
            {
                cast?.Dispose();
                randomness.Dispose();
                SetRandomState(current);
                current.Dispose();
                if (ownsGenerator)
                {
                    generator?.Dispose();
                }
            });
        }

        private void SetRandomState(Tensor state)
        {
            if (generator is null)
            {
                random.set_rng_state(state);
            }
            else
            {
                generator.set_state(state);
            }
        }
    }

    private sealed class Restorer(Action undo) : IDisposable
    {
        public void Dispose() => undo();
    }
}
