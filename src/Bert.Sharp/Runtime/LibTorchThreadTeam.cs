using System.Runtime.CompilerServices;
using System.Runtime.ExceptionServices;
using System.Runtime.InteropServices;

namespace Bert.Sharp.Runtime;

/// <summary>
/// Runs Bert.Sharp's own CPU kernels (attention head by head, dropout masks, the fused AdamW update) on LibTorch's OpenMP
/// thread team — the threads LibTorch's operators run on — instead of .NET's thread pool.
/// </summary>
/// <remarks>
/// Why: after each parallel operator, LibTorch's OpenMP threads keep spinning for a while (libgomp's default wait policy)
/// so that the next operator starts at once. A kernel that then runs on other threads (<see cref="Parallel"/>) shares the
/// cores with those spinning threads: on a 2-core host one layer's attention with dropout took 41 ms on .NET threads and
/// 30.5 ms with the spinning switched off (<c>GOMP_SPINCOUNT=0</c>, which would slow every LibTorch operator instead).
/// Run on the team itself, the kernel gets the cores the spinning threads would hold.
/// <para>
/// Bound on Linux to the <c>GOMP_parallel</c> that <c>libtorch_cpu</c> links (LibTorch's own libgomp), with a self-check
/// (every member of a two-thread team reports in). Elsewhere, when the self-check fails, with
/// <c>BERT_SHARP_OPENMP_TEAM=0</c>, or inside a parallel region, the work runs on .NET's thread pool as before. Work
/// items are taken in turn by whichever thread is free, so a kernel whose items are independent gives the same result
/// either way and whatever the thread count.
/// </para>
/// </remarks>
internal static unsafe class LibTorchThreadTeam
{
    /// <summary>Set to 0 before the first use to run the kernels on .NET's thread pool instead.</summary>
    internal const string OptOutVariable = "BERT_SHARP_OPENMP_TEAM";

    private static readonly NativeBinding<Functions> Binding = new(Resolve);

    /// <summary>Whether the team can be used.</summary>
    public static bool IsAvailable => Binding.IsAvailable;

    /// <summary>"available", or why not.</summary>
    public static string Status => Binding.Status;

    /// <summary>Whether the calling thread is inside an OpenMP parallel region of LibTorch's team (false where the team is not bound).</summary>
    internal static bool InParallelRegion => Binding.Functions is { } f && f.InParallel() != 0;

    /// <summary>
    /// When false, <see cref="For{TState}"/> runs on .NET's thread pool even where the team is available: for measuring one
    /// against the other in one process (the benchmarks). True by default.
    /// </summary>
    internal static bool Enabled { get; set; } = true;

    /// <summary>
    /// Calls <paramref name="body"/> for every item in [0, <paramref name="count"/>) on up to <paramref name="threads"/>
    /// threads, each with a state of its own from <paramref name="createState"/> (released by <paramref name="releaseState"/>
    /// on the thread that made it, also when an item throws). The first exception thrown is rethrown here once every thread
    /// has stopped; the items not started by then are skipped.
    /// </summary>
    public static void For<TState>(long count, int threads, Func<TState> createState, Action<long, TState> body, Action<TState> releaseState)
    {
        ArgumentNullException.ThrowIfNull(createState);
        ArgumentNullException.ThrowIfNull(body);
        ArgumentNullException.ThrowIfNull(releaseState);
        if (count <= 0)
        {
            return;
        }

        var work = new Work<TState>(count, createState, body, releaseState);
        int members = (int)Math.Min(count, Math.Max(1, threads));
        Functions? team = Enabled ? Binding.Functions : null;
        if (members == 1 || (team is not null && team.InParallel() != 0))
        {
            // One thread's worth, or already on a team (nested regions get one thread anyway): here, on this thread.
            work.RunMember();
        }
        else if (team is not null)
        {
            GCHandle handle = GCHandle.Alloc(work);
            try
            {
                team.Parallel(&RunMember, GCHandle.ToIntPtr(handle), (uint)members, 0);
            }
            finally
            {
                handle.Free();
            }
        }
        else
        {
            Parallel.For(0, members, new ParallelOptions { MaxDegreeOfParallelism = members }, _ => work.RunMember());
        }

        work.ThrowIfFailed();
    }

    /// <summary><see cref="For{TState}"/> without a per-thread state.</summary>
    public static void For(long count, int threads, Action<long> body)
    {
        ArgumentNullException.ThrowIfNull(body);
        For<object?>(count, threads, static () => null, (item, _) => body(item), static _ => { });
    }

    // Each member of the team enters here; nothing may escape into native code, so every exception is kept for the caller.
    [UnmanagedCallersOnly]
    private static void RunMember(nint data)
    {
        try
        {
            ((IWork)GCHandle.FromIntPtr(data).Target!).RunMember();
        }
        catch (Exception e)
        {
            // RunMember records its own failures; this is only reached when the handle itself is bad.
            Environment.FailFast($"{nameof(LibTorchThreadTeam)}: a team member could not reach its work.", e);
        }
    }

    private static (Functions? Functions, string Status) Resolve() => LibTorchCpuLibrary.Bind(
        OptOutVariable,
        OperatingSystem.IsLinux() ? null : "used on Linux only (where LibTorch links GNU OpenMP)",
        library =>
        {
            // Looked up through libtorch_cpu's handle, so from the libraries it links: LibTorch's own libgomp, not another.
            if (!NativeLibrary.TryGetExport(library, "GOMP_parallel", out nint parallel) || !NativeLibrary.TryGetExport(library, "omp_in_parallel", out nint inParallel)
                || !NativeLibrary.TryGetExport(library, "omp_get_thread_num", out nint threadNumber))
            {
                return (null, "libtorch_cpu links no GNU OpenMP (GOMP_parallel, omp_in_parallel, omp_get_thread_num)");
            }

            var f = new Functions(parallel, inParallel, threadNumber);
            string? failure = SelfCheck(f);
            return failure is null ? (f, "available") : (null, failure);
        });

    // A two-thread region in which each member writes its thread number into its own slot: null when both did.
    private static string? SelfCheck(Functions f)
    {
        if (f.InParallel() != 0)
        {
            return "resolved inside a parallel region; cannot check the team";
        }

        var check = new TeamCheck(f);
        GCHandle handle = GCHandle.Alloc(check);
        try
        {
            f.Parallel(&ReportIn, GCHandle.ToIntPtr(handle), 2, 0);
        }
        finally
        {
            handle.Free();
        }

        return check.Seen is [1, 1] ? null : $"GOMP_parallel failed its self-check (members seen: {string.Join(", ", check.Seen)})";
    }

    [UnmanagedCallersOnly]
    private static void ReportIn(nint data)
    {
        var check = (TeamCheck)GCHandle.FromIntPtr(data).Target!;
        int member = check.Functions.ThreadNumber();
        if ((uint)member < (uint)check.Seen.Length)
        {
            Interlocked.Increment(ref check.Seen[member]);
        }
    }

    private interface IWork
    {
        void RunMember();
    }

    private sealed class TeamCheck(Functions functions)
    {
        public Functions Functions { get; } = functions;

        // Fields, not properties: the members increment the slots in place.
#pragma warning disable SA1401
        public readonly int[] Seen = new int[2];
#pragma warning restore SA1401
    }

    // The items, handed out one at a time to whichever member asks next; the first failure stops the hand-out.
    private sealed class Work<TState>(long count, Func<TState> createState, Action<long, TState> body, Action<TState> releaseState) : IWork
    {
        private long next = -1;
        private ExceptionDispatchInfo? failure;

        [MethodImpl(MethodImplOptions.NoInlining)]
        public void RunMember()
        {
            try
            {
                TState state = createState();
                try
                {
                    for (long item = Interlocked.Increment(ref next); item < count; item = Interlocked.Increment(ref next))
                    {
                        body(item, state);
                    }
                }
                finally
                {
                    releaseState(state);
                }
            }
            catch (Exception e)
            {
                Interlocked.CompareExchange(ref failure, ExceptionDispatchInfo.Capture(e), null);
                Interlocked.Exchange(ref next, count);
            }
        }

        public void ThrowIfFailed() => failure?.Throw();
    }

    internal sealed class Functions(nint parallel, nint inParallel, nint threadNumber)
    {
        public delegate* unmanaged<delegate* unmanaged<nint, void>, nint, uint, uint, void> Parallel { get; } =
            (delegate* unmanaged<delegate* unmanaged<nint, void>, nint, uint, uint, void>)parallel;

        public delegate* unmanaged<int> InParallel { get; } = (delegate* unmanaged<int>)inParallel;

        public delegate* unmanaged<int> ThreadNumber { get; } = (delegate* unmanaged<int>)threadNumber;
    }
}
