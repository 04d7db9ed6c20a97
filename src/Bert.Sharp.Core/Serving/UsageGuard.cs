namespace Bert.Sharp.Serving;

/// <summary>
/// Makes <c>Dispose</c> safe while other threads are inside the object: calls enter and leave the guard; disposing waits
/// until the calls in flight have left and refuses new ones with an <see cref="ObjectDisposedException"/> naming the object.
/// Native memory (model weights, ONNX sessions) is then freed only when nobody reads it.
/// </summary>
internal sealed class UsageGuard(string ownerName)
{
    private readonly object gate = new();
    private int active;
    private bool disposed;

    /// <summary>Whether disposal has begun.</summary>
    public bool IsDisposed
    {
        get
        {
            lock (gate)
            {
                return disposed;
            }
        }
    }

    /// <summary>Enters a call; dispose the result to leave.</summary>
    /// <exception cref="ObjectDisposedException">The owner has been disposed.</exception>
    public Lease Enter()
    {
        lock (gate)
        {
            if (disposed)
            {
                throw new ObjectDisposedException(ownerName, $"This {ownerName} has been disposed; create a new one to predict again.");
            }

            active++;
        }

        return new Lease(this);
    }

    /// <summary>
    /// Marks the owner disposed, waits for the calls in flight to leave, and returns <c>true</c> once (the caller then frees
    /// its resources); <c>false</c> when disposal had begun already.
    /// </summary>
    public bool BeginDispose()
    {
        lock (gate)
        {
            if (disposed)
            {
                return false;
            }

            disposed = true;
            while (active > 0)
            {
                Monitor.Wait(gate);
            }

            return true;
        }
    }

    private void Leave()
    {
        lock (gate)
        {
            if (--active == 0)
            {
                Monitor.PulseAll(gate);
            }
        }
    }

    /// <summary>One call inside the guard.</summary>
    internal readonly struct Lease(UsageGuard guard) : IDisposable
    {
        public void Dispose() => guard.Leave();
    }
}
