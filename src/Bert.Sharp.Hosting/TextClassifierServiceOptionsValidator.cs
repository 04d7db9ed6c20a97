using Microsoft.Extensions.Options;

namespace Bert.Sharp.Hosting;

/// <summary>Checks <see cref="TextClassifierServiceOptions"/> when the host starts; every message names the option at fault.</summary>
internal sealed class TextClassifierServiceOptionsValidator : IValidateOptions<TextClassifierServiceOptions>
{
    public ValidateOptionsResult Validate(string? name, TextClassifierServiceOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        const string Prefix = nameof(TextClassifierServiceOptions);
        var failures = new List<string>();
        if (string.IsNullOrWhiteSpace(options.ModelDirectory))
        {
            failures.Add($"{Prefix}.{nameof(options.ModelDirectory)} is not set: give the folder of a fine-tuned classifier (configuration key '{TextClassifierServiceOptions.SectionName}:{nameof(options.ModelDirectory)}').");
        }
        else if (!Directory.Exists(options.ModelDirectory))
        {
            failures.Add($"{Prefix}.{nameof(options.ModelDirectory)} '{Path.GetFullPath(options.ModelDirectory)}' does not exist.");
        }

        if (options.MaxBatchSize <= 0)
        {
            failures.Add($"{Prefix}.{nameof(options.MaxBatchSize)} must be positive; it is {options.MaxBatchSize}.");
        }

        if (options.QueueCapacity <= 0)
        {
            failures.Add($"{Prefix}.{nameof(options.QueueCapacity)} must be positive; it is {options.QueueCapacity}.");
        }

        if (options.MaxDelay < TimeSpan.Zero || options.MaxDelay > TimeSpan.FromMilliseconds(int.MaxValue))
        {
            failures.Add($"{Prefix}.{nameof(options.MaxDelay)} must be between 0 and {TimeSpan.FromMilliseconds(int.MaxValue)}; it is {options.MaxDelay}.");
        }

        if (!(options.DegradedQueueRatio > 0 && options.DegradedQueueRatio <= 1))
        {
            failures.Add($"{Prefix}.{nameof(options.DegradedQueueRatio)} must be in (0, 1]; it is {options.DegradedQueueRatio}.");
        }

        if (string.IsNullOrWhiteSpace(options.Name))
        {
            failures.Add($"{Prefix}.{nameof(options.Name)} must not be empty.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
