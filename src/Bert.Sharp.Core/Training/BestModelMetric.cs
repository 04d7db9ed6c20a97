namespace Bert.Sharp;

/// <summary>The evaluation metric that decides the best model and early stopping.</summary>
public enum BestModelMetric
{
    /// <summary>Validation loss (lower is better).</summary>
    Loss,

    /// <summary>Validation accuracy (higher is better).</summary>
    Accuracy,

    /// <summary>Validation macro-averaged F1 (higher is better).</summary>
    MacroF1,

    /// <summary>Token classification: validation entity-level micro F1, seqeval's headline figure (higher is better).</summary>
    EntityF1,

    /// <summary>Sequence classification: validation micro-averaged F1 (higher is better); the usual headline figure of multi-label models.</summary>
    MicroF1,
}
