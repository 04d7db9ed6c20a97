using System.Reflection;
using Microsoft.Extensions.Logging;

namespace Bert.Sharp.Tests.FolderLayers;

/// <summary>
/// Log event ids identify a message to whoever filters or alerts on them: two messages of one log class never share an id
/// (the unverified-checkpoint warning and the checkpoint-folder notice once both were 116), and the messages written into
/// a training run's logger (TrainingLog and MixedPrecision's) never share one either.
/// </summary>
public sealed class LogEventIdTests
{
    private static readonly Assembly[] Packages =
    [
        typeof(BertTokenizer).Assembly, typeof(FineTuner).Assembly, typeof(OnnxTextClassifier).Assembly,
        typeof(Microsoft.Extensions.DependencyInjection.BertSharpHealthChecksBuilderExtensions).Assembly,
    ];

    [Fact]
    public void No_two_messages_of_one_log_class_share_an_event_id()
    {
        var messages = Messages().ToList();
        Assert.True(messages.Count >= 40, $"only {messages.Count} [LoggerMessage] methods found: the reflection missed them");
        string[] clashes = [.. messages.GroupBy(m => (m.Type, m.Id)).Where(g => g.Count() > 1).Select(g => $"{g.Key.Type}: {g.Key.Id} ({string.Join(", ", g.Select(m => m.Method))})")];
        Assert.True(clashes.Length == 0, "event ids used twice: " + string.Join("; ", clashes));
    }

    [Fact]
    public void The_messages_of_a_training_run_have_distinct_event_ids()
    {
        string[] trainingRun = ["TrainingLog", "MixedPrecision"];
        string[] clashes = [.. Messages().Where(m => trainingRun.Contains(m.Type)).GroupBy(m => m.Id).Where(g => g.Count() > 1)
            .Select(g => $"{g.Key} ({string.Join(", ", g.Select(m => $"{m.Type}.{m.Method}"))})")];
        Assert.True(clashes.Length == 0, "event ids used twice in a training run's log: " + string.Join("; ", clashes));
    }

    private static IEnumerable<(string Type, int Id, string Method)> Messages() =>
        from assembly in Packages
        from type in assembly.GetTypes()
        from method in type.GetMethods(BindingFlags.Static | BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly)
        let attribute = method.GetCustomAttribute<LoggerMessageAttribute>()
        where attribute is not null
        select (type.Name, attribute.EventId, method.Name);
}
