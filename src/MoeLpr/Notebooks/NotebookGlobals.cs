namespace MoeLpr.Notebooks;

/// <summary>
/// What notebook code sees as globals when the kit runs it: the Polyglot Notebooks functions <c>display</c> and
/// <c>HTML</c>, and the run's <see cref="Parameters"/>.
/// </summary>
#pragma warning disable IDE1006 // lower-case `display` is the name notebooks use
public sealed class NotebookGlobals
{
    internal NotebookGlobals(NotebookParameters parameters) => Parameters = parameters;

    public NotebookParameters Parameters { get; }

    /// <summary>Where <see cref="display"/> sends values: the outputs of the cell being run.</summary>
    internal CellOutputs? CurrentCell { get; set; }

    /// <summary>Shows a value as a cell output (charts and tables as HTML, other values as text).</summary>
    public void display(object? value) =>
        (CurrentCell ?? throw new InvalidOperationException("display() called outside a running cell")).AddDisplay(value);

    /// <summary>Wraps trusted HTML so that displaying or returning it renders as HTML.</summary>
    public HtmlContent HTML(string html) => new(html);
}
#pragma warning restore IDE1006
