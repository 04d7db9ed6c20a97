using Bert.Sharp.Modeling;
using Bert.Sharp.Onnx.Proto;

namespace Bert.Sharp.Onnx;

/// <summary>
/// Writes what comes after the encoder, per task: pooling over real tokens, the classifier, and the probabilities
/// (softmax, sigmoid or identity as the problem type says), all inside the graph.
/// </summary>
/// <remarks><paramref name="bertEncoder"/> writes BERT's pooler; <c>null</c> for a family without one.</remarks>
internal sealed class TaskHeadGraphWriter(OnnxGraphBuilder graph, OnnxExportSource source, OnnxLinearWriter linear, BertEncoderGraphWriter? bertEncoder)
{
    /// <summary>Output names (Hugging Face Optimum's, plus <c>probabilities</c>).</summary>
    public const string LastHiddenState = "last_hidden_state", PoolerOutput = "pooler_output", Logits = "logits",
        Probabilities = "probabilities", SentenceEmbedding = "sentence_embedding";

    private readonly BertConfig config = source.Config;

    /// <summary>Writes the outputs of <paramref name="hidden"/> (the encoder's last hidden state) for the source's task.</summary>
    public void Write(string hidden, string attentionMask)
    {
        int h = config.HiddenSize;
        switch (source.Task)
        {
            case OnnxExportTask.FeatureExtraction:
                graph.Output(LastHiddenState, TensorProto.Types.DataType.Float, "batch_size", "sequence_length", h);
                if (source.HasPooler && bertEncoder is not null)
                {
                    bertEncoder.Pooler(hidden, PoolerOutput);
                    graph.Output(PoolerOutput, TensorProto.Types.DataType.Float, "batch_size", h);
                }

                break;
            case OnnxExportTask.SequenceClassification:
                string pooled = Pool(hidden, attentionMask, null);
                switch (source.Family.SequenceHead)
                {
                    case SequenceHeadLayout.DenseTanhOutProjection:
                        // RobertaClassificationHead: dense, tanh, out_proj over the first token (dropout is off in inference).
                        string dense = graph.Add("Tanh", [linear.Linear(pooled, "classifier.dense", h, h, tokens: false)]);
                        linear.Linear(dense, "classifier.out_proj", h, source.Labels.Count, Logits, tokens: false);
                        break;
                    case SequenceHeadLayout.PreClassifierRelu:
                        // DistilBertForSequenceClassification: pre_classifier, ReLU, classifier over the first token.
                        string pre = graph.Add("Relu", [linear.Linear(pooled, "pre_classifier", h, h, tokens: false)]);
                        linear.Linear(pre, "classifier", h, source.Labels.Count, Logits, tokens: false);
                        break;
                    case SequenceHeadLayout.PredictionHead:
                        // ModernBertForSequenceClassification: the prediction head over the pooled state, then the classifier.
                        linear.Linear(PredictionHead(pooled, tokens: false), "classifier", h, source.Labels.Count, Logits, tokens: false);
                        break;
                    default:
                        linear.Linear(pooled, "classifier", h, source.Labels.Count, Logits, tokens: false);
                        break;
                }

                Scores(Logits, source.ProblemType);
                graph.Output(Logits, TensorProto.Types.DataType.Float, "batch_size", source.Labels.Count);
                graph.Output(Probabilities, TensorProto.Types.DataType.Float, "batch_size", source.Labels.Count);
                break;
            case OnnxExportTask.TokenClassification:
                // ModernBertForTokenClassification runs its prediction head on every token before the classifier.
                string tokens = source.Family.SequenceHead == SequenceHeadLayout.PredictionHead ? PredictionHead(hidden, tokens: true) : hidden;
                linear.Linear(tokens, "classifier", h, source.Labels.Count, Logits);
                Scores(Logits, ProblemType.SingleLabelClassification);
                graph.Output(Logits, TensorProto.Types.DataType.Float, "batch_size", "sequence_length", source.Labels.Count);
                graph.Output(Probabilities, TensorProto.Types.DataType.Float, "batch_size", "sequence_length", source.Labels.Count);
                break;
            case OnnxExportTask.SentenceEmbedding:
                graph.Output(LastHiddenState, TensorProto.Types.DataType.Float, "batch_size", "sequence_length", h);
                string embedding = Pool(hidden, attentionMask, source.Normalize ? null : SentenceEmbedding);
                if (source.Normalize)
                {
                    // x / max(||x||, 1e-12), as torch.nn.functional.normalize.
                    string norm = graph.Add("Max", [graph.Reduce("ReduceL2", embedding, [1], keepDims: true), graph.ScalarFloat(1e-12f)]);
                    graph.Add("Div", [embedding, norm], SentenceEmbedding);
                }

                graph.Output(SentenceEmbedding, TensorProto.Types.DataType.Float, "batch_size", h);
                break;
        }
    }

    private string Pool(string hidden, string attentionMask, string? output)
    {
        switch (source.Pooling)
        {
            case OnnxPooling.Pooler:
                return (bertEncoder ?? throw new NotSupportedException($"'{source.Directory}': a {source.Family.ModelType} model has no pooler.")).Pooler(hidden, output);
            case OnnxPooling.Cls:
                return graph.Add("Gather", [hidden, graph.ScalarInt64(0)], output, null, OnnxGraphBuilder.Int("axis", 1));
            case OnnxPooling.Max:
                // Padding positions are set to -1e9 before the maximum, as sentence-transformers does.
                string real = graph.Add("Cast", [graph.Unsqueeze(attentionMask, -1)], null, null, OnnxGraphBuilder.Int("to", (long)TensorProto.Types.DataType.Bool));
                string masked = graph.Add("Where", [real, hidden, graph.ScalarFloat(-1e9f)]);
                return graph.Reduce("ReduceMax", masked, [1], keepDims: false, output);
            default:
                // sum(h * mask) / max(sum(mask), 1e-9) over the sequence.
                string weights = graph.Add("Cast", [graph.Unsqueeze(attentionMask, -1)], null, null, OnnxGraphBuilder.Int("to", (long)TensorProto.Types.DataType.Float));
                string summed = graph.Reduce("ReduceSum", graph.Add("Mul", [hidden, weights]), [1], keepDims: false);
                string counts = graph.Add("Max", [graph.Reduce("ReduceSum", weights, [1], keepDims: false), graph.ScalarFloat(1e-9f)]);
                return graph.Add("Div", [summed, counts], output);
        }
    }

    // ModernBertPredictionHead: norm(act(dense(x))), the dense bias per classifier_bias, the norm's per norm_bias.
    private string PredictionHead(string x, bool tokens)
    {
        ModernBertSettings settings = ModernBertSettings.Read(config);
        string dense = linear.Linear(x, "head.dense", config.HiddenSize, config.HiddenSize, tokens: tokens, hasBias: settings.ClassifierBias);
        return OnnxLayers.LayerNorm(graph, source, OnnxLayers.Activation(graph, source, dense, settings.ClassifierActivation), "head.norm", settings.NormBias);
    }

    private void Scores(string logits, ProblemType problemType) => graph.Add(problemType switch
    {
        ProblemType.SingleLabelClassification => "Softmax",
        ProblemType.MultiLabelClassification => "Sigmoid",
        _ => "Identity",
    }, [logits], Probabilities, null, problemType == ProblemType.SingleLabelClassification ? [OnnxGraphBuilder.Int("axis", -1)] : []);
}
