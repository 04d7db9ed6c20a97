using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using Bert.Sharp.Runtime;

namespace Bert.Sharp.Tests.Runtime;

/// <summary>
/// <see cref="LibTorchThreadTeam"/>: every item exactly once on LibTorch's OpenMP team (and on .NET's pool when switched off),
/// per-thread states made and released on their own thread, the first failure rethrown as itself, nesting and concurrent
/// callers.
/// </summary>
public class LibTorchThreadTeamTests
{
    private static bool TeamExpected => OperatingSystem.IsLinux() && Environment.GetEnvironmentVariable(LibTorchThreadTeam.OptOutVariable) is not ("0" or "false" or "False");

    [Fact]
    public void Binds_to_libtorchs_openmp_on_linux()
    {
        if (TeamExpected)
        {
            Assert.True(LibTorchThreadTeam.IsAvailable, LibTorchThreadTeam.Status);
            Assert.Equal("available", LibTorchThreadTeam.Status);
        }
        else
        {
            Assert.False(LibTorchThreadTeam.IsAvailable);
            Assert.NotEqual("available", LibTorchThreadTeam.Status);
        }
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(1, 4)]
    [InlineData(2, 2)]
    [InlineData(3, 1000)]
    [InlineData(8, 37)]
    [InlineData(2, 100_000)]
    public void Every_item_runs_exactly_once(int threads, int count)
    {
        foreach (bool team in new[] { true, false })
        {
            var hits = new int[count];
            RunWith(team, () => LibTorchThreadTeam.For(count, threads, item => Interlocked.Increment(ref hits[item])));
            Assert.All(hits, h => Assert.Equal(1, h));
        }
    }

    [Fact]
    public void Nothing_runs_for_no_items()
    {
        bool called = false;
        LibTorchThreadTeam.For(0, 2, () => { called = true; return 0; }, (_, _) => called = true, _ => called = true);
        LibTorchThreadTeam.For(-3, 2, _ => called = true);
        Assert.False(called);
    }

    [Fact]
    public void Items_run_inside_libtorchs_parallel_region_where_the_team_is_bound()
    {
        int inside = 0, outside = 0;
        void Count(long item)
        {
            if (LibTorchThreadTeam.InParallelRegion)
            {
                Interlocked.Increment(ref inside);
            }
            else
            {
                Interlocked.Increment(ref outside);
            }
        }

        LibTorchThreadTeam.For(64, 2, Count);
        Assert.Equal(TeamExpected ? (64, 0) : (0, 64), (inside, outside));
        Assert.False(LibTorchThreadTeam.InParallelRegion);

        // Switched off, the same work runs outside any region (on .NET's pool).
        inside = outside = 0;
        RunWith(team: false, () => LibTorchThreadTeam.For(64, 2, Count));
        Assert.Equal((0, 64), (inside, outside));
    }

    [Fact]
    public void Each_state_is_made_and_released_on_one_thread_and_used_only_there()
    {
        foreach (bool team in new[] { true, false })
        {
            var released = new ConcurrentBag<(int Made, int Released, int Items)>();
            int total = 0;
            RunWith(team, () => LibTorchThreadTeam.For(
                500,
                3,
                () => new MemberState(Environment.CurrentManagedThreadId),
                (_, state) =>
                {
                    Assert.Equal(state.Thread, Environment.CurrentManagedThreadId);
                    state.Items++;
                    Interlocked.Increment(ref total);
                },
                state => released.Add((state.Thread, Environment.CurrentManagedThreadId, state.Items))));
            Assert.Equal(500, total);
            Assert.InRange(released.Count, 1, 3);
            Assert.All(released, r => Assert.Equal(r.Made, r.Released));
            Assert.Equal(500, released.Sum(r => r.Items));
        }
    }

    [Fact]
    public void The_first_failure_is_rethrown_as_itself_states_are_released_and_the_team_still_works()
    {
        foreach (bool team in new[] { true, false })
        {
            int made = 0, freed = 0;
            var thrown = Assert.Throws<InvalidDataException>(() => RunWith(team, () => LibTorchThreadTeam.For(
                10_000,
                2,
                () => Interlocked.Increment(ref made),
                (item, _) =>
                {
                    if (item == 17)
                    {
                        throw new InvalidDataException("item 17");
                    }
                },
                _ => Interlocked.Increment(ref freed))));
            Assert.Equal("item 17", thrown.Message);
            Assert.Equal(made, freed);

            var hits = new int[100];
            RunWith(team, () => LibTorchThreadTeam.For(hits.Length, 2, item => Interlocked.Increment(ref hits[item])));
            Assert.All(hits, h => Assert.Equal(1, h));
        }
    }

    [Fact]
    public void A_failing_state_factory_is_rethrown()
    {
        Assert.Throws<InsufficientMemoryException>(() => LibTorchThreadTeam.For<int>(10, 2, () => throw new InsufficientMemoryException("no buffer"), (_, _) => { }, _ => { }));
    }

    [Fact]
    public void A_loop_inside_an_item_runs_on_that_thread_and_completes()
    {
        var hits = new int[16 * 50];
        LibTorchThreadTeam.For(16, 2, outer =>
        {
            int thread = Environment.CurrentManagedThreadId;
            LibTorchThreadTeam.For(50, 2, inner =>
            {
                Assert.Equal(thread, Environment.CurrentManagedThreadId);
                Interlocked.Increment(ref hits[(outer * 50) + inner]);
            });
        });
        Assert.All(hits, h => Assert.Equal(1, h));
    }

    [Fact]
    public async Task Concurrent_callers_each_get_all_their_items()
    {
        const int Callers = 4, Count = 20_000;
        long[] sums = await Task.WhenAll(Enumerable.Range(0, Callers).Select(caller => Task.Run(() =>
        {
            long sum = 0;
            for (int repeat = 0; repeat < 5; repeat++)
            {
                LibTorchThreadTeam.For(Count, 2, item => Interlocked.Add(ref sum, item + caller));
            }

            return sum;
        })));
        for (int caller = 0; caller < Callers; caller++)
        {
            Assert.Equal(5 * ((long)Count * (Count - 1) / 2 + ((long)Count * caller)), sums[caller]);
        }
    }

    [Fact]
    public void Native_memory_written_by_the_team_is_seen_by_the_caller()
    {
        // The pattern of the kernels: each item writes its own slice of native memory.
        const int Items = 257, Width = 1000;
        nint memory = Marshal.AllocHGlobal(Items * Width * sizeof(float));
        try
        {
            unsafe
            {
                float* data = (float*)memory;
                LibTorchThreadTeam.For(Items, 2, item =>
                {
                    for (int i = 0; i < Width; i++)
                    {
                        ((float*)memory)[(item * Width) + i] = item + (i * 0.5f);
                    }
                });
                for (int item = 0; item < Items; item++)
                {
                    for (int i = 0; i < Width; i++)
                    {
                        Assert.Equal(item + (i * 0.5f), data[(item * Width) + i]);
                    }
                }
            }
        }
        finally
        {
            Marshal.FreeHGlobal(memory);
        }
    }

    private static void RunWith(bool team, Action action)
    {
        // Enabled is process-wide; switching it off only moves where work runs, never what it computes, so tests running
        // beside this one are unaffected.
        LibTorchThreadTeam.Enabled = team;
        try
        {
            action();
        }
        finally
        {
            LibTorchThreadTeam.Enabled = true;
        }
    }

    private sealed class MemberState(int thread)
    {
        public int Thread { get; } = thread;

        public int Items { get; set; }
    }
}
