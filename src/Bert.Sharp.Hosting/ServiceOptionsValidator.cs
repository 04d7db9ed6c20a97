using Microsoft.Extensions.Options;

namespace Bert.Sharp.Hosting;

/// <summary>Checks the options of a served model when the host starts; every message names the option (and the service key) at fault.</summary>
internal sealed class ServiceOptionsValidator<TOptions> : IValidateOptions<TOptions>
    where TOptions : BertServiceOptions
{
    public ValidateOptionsResult Validate(string? name, TOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        bool keyed = !string.IsNullOrEmpty(name) && name != Options.DefaultName;
        string prefix = keyed ? $"{typeof(TOptions).Name}['{name}']" : typeof(TOptions).Name;
        var failures = new List<string>();
        if (string.IsNullOrWhiteSpace(options.ModelDirectory))
        {
            string key = keyed ? $"the section bound for '{name}', key '{nameof(options.ModelDirectory)}'" : $"configuration key '{options.Section}:{nameof(options.ModelDirectory)}'";
            failures.Add($"{prefix}.{nameof(options.ModelDirectory)} is not set: give the folder of a fine-tuned model ({key}).");
        }
        else if (!Directory.Exists(options.ModelDirectory))
        {
            failures.Add($"{prefix}.{nameof(options.ModelDirectory)} '{Path.GetFullPath(options.ModelDirectory)}' does not exist.");
        }

        if (options.MaxBatchSize <= 0)
        {
            failures.Add($"{prefix}.{nameof(options.MaxBatchSize)} must be positive; it is {options.MaxBatchSize}.");
        }

        if (options.QueueCapacity <= 0)
        {
            failures.Add($"{prefix}.{nameof(options.QueueCapacity)} must be positive; it is {options.QueueCapacity}.");
        }

        if (options.MaxDelay < TimeSpan.Zero || options.MaxDelay > TimeSpan.FromMilliseconds(int.MaxValue))
        {
            failures.Add($"{prefix}.{nameof(options.MaxDelay)} must be between 0 and {TimeSpan.FromMilliseconds(int.MaxValue)}; it is {options.MaxDelay}.");
        }

        if (!(options.DegradedQueueRatio > 0 && options.DegradedQueueRatio <= 1))
        {
            failures.Add($"{prefix}.{nameof(options.DegradedQueueRatio)} must be in (0, 1]; it is {options.DegradedQueueRatio}.");
        }

        if (string.IsNullOrWhiteSpace(options.Name))
        {
            failures.Add($"{prefix}.{nameof(options.Name)} must not be empty.");
        }

        if (options.MaxTextsPerRequest <= 0)
        {
            failures.Add($"{prefix}.{nameof(options.MaxTextsPerRequest)} must be positive; it is {options.MaxTextsPerRequest}.");
        }

        if (options.MaxCharactersPerRequest <= 0)
        {
            failures.Add($"{prefix}.{nameof(options.MaxCharactersPerRequest)} must be positive; it is {options.MaxCharactersPerRequest}.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
