namespace Bert.Sharp;

/// <summary>A task model whose new head can be initialised again from a seed (<see cref="ClassifierLoadOptions.Seed"/>).</summary>
internal interface ISeededHead
{
    /// <summary>Re-initialises the head's weights from <paramref name="seed"/>, as the model's own initialiser would with that generator.</summary>
    /// <param name="initializerRange">The config's <c>initializer_range</c> (the normal's standard deviation).</param>
    /// <param name="seed">The seed.</param>
    void ResetHead(double initializerRange, int seed);
}
