using System.Text;
using System.Text.Json;

namespace MoeLpr.Training.Recipes;

/// <summary>
/// The recipe's README.md: what it is, how to run it, the flags, the differences, the way back. Prose is wrapped at
/// <see cref="Width"/> characters and holds no path (so the wrapping does not depend on where the files are); paths
/// are in tables and code blocks.
/// </summary>
internal static class RecipeReadme
{
    const int Width = 120;

    public static string Write(RecipePlan plan)
    {
        var options = plan.Options;
        var run = options.Training;
        bool stage2 = run.Stage == TrainingStage.Stage2;
        string stage = stage2 ? "2" : "1", script = LlamaFactoryRecipe.ScriptName(run.Stage);
        string folder = Path.GetFullPath(run.OutputDir), output = Path.Combine(folder, $"stage{stage}");
        string model = Path.GetFullPath(run.ModelDir);
        var opt = run.Optimization;
        var text = new StringBuilder();
        void Line(string line = "") => text.Append(line).Append('\n');
        void Para(string prose, string first = "", string rest = "") => text.Append(Wrap(prose, first, rest));

        Line($"# MoE-LPR stage {stage} on many GPUs, with the authors' LLaMA-Factory");
        Line();
        Para($"Written by `moelpr recipe --stage {stage}`: the run `moelpr train --stage {stage}` does with the same " +
             $"options, as the authors' own [`LLaMA-Factory/scripts/{script}`](https://github.com/zjwang21/MoE-LPR) " +
             "(patched transformers 4.38, PEFT 0.8.2 with the \"MOE\" tuner, DeepSpeed ZeRO-2). " + (stage2
                 ? "Stage 2 trains only the routers of the stage-1 adapter, with LM + lpr_loss_coef · LPR loss on " +
                   "new-language text and an old-language replay" + (plan.Adapter is { } a
                       ? $" (the adapter has {a.NumExperts} experts, top-{a.TopK})."
                       : "; the stage-1 adapter is not there yet: run the stage-1 recipe first.")
                 : "Stage 1 upcycles every MLP into an MoE (expert 0 = the frozen original) and trains the routers " +
                   "and the new experts with LM + aux_loss_coef · balance loss on new-language text."));
        Line();
        Line("| file | what it is |");
        Line("| --- | --- |");
        Line($"| `{script}` | the DeepSpeed launch of LLaMA-Factory's `src/train_bash.py` with the flags below |");
        Line($"| `{LlamaFactoryRecipe.DsConfigFileName}` | the authors' `config/ds_config.json`, unchanged (ZeRO-2) |");
        Line($"| `{LlamaFactoryRecipe.DataFolder}/dataset_info.json` | the datasets' entries, with \"language\" |");
        Line();

        Line("## Run it");
        Line();
        Para("Install the authors' stack as their README says: `git clone https://github.com/zjwang21/MoE-LPR`, " +
             "`conda env create -f environment.yml`, then `pip install --editable ./` in `MoE-LPR/peft` and in " +
             "`MoE-LPR/transformers`.", "1. ", "   ");
        Para("Put the dataset files next to `data/dataset_info.json` (the script checks they are there), or point " +
             "`DATASET_DIR` at a folder that holds this `dataset_info.json` and the files:", "2. ", "   ");
        Line();
        Line("   ```bash");
        string data = Path.Combine(folder, LlamaFactoryRecipe.DataFolder);
        var subfolders = plan.Datasets.Select(d => Path.GetDirectoryName(d.Entry.FileName!)!).Where(d => d != "");
        foreach (var dir in subfolders.Distinct())
            Line($"   mkdir -p {Quote(Path.Combine(data, dir))}");
        foreach (var d in plan.Datasets)
            Line($"   cp {Quote(d.Source)} \\\n      {Quote(Path.Combine(data, d.Entry.FileName!))}");
        Line("   ```");
        Line();
        Line($"3. `LLAMA_FACTORY_DIR=/path/to/MoE-LPR/LLaMA-Factory NUM_GPUS={options.NumGpus} bash {script}`");
        Line();
        Line("Variables (the environment overrides the default):");
        Line();
        Line("| variable | default |");
        Line("| --- | --- |");
        Line($"| `MODEL_PATH` | `{model}` |");
        if (run.AdapterDir is not null)
            Line($"| `{LlamaFactoryRecipe.AdapterVariable(run.Stage)}` | `{Path.GetFullPath(run.AdapterDir)}` |");
        Line("| `DATASET_DIR` | `data/` here |");
        Line($"| `OUTPUT_DIR` | `stage{stage}/` here |");
        Line($"| `NUM_GPUS` | {options.NumGpus} |");
        Line($"| `MASTER_PORT` | {options.MasterPort} |");
        Line();
        long blocks = (long)opt.BatchSize * opt.GradientAccumulationSteps;
        Para($"**Batch.** One optimizer step takes per_device_train_batch_size × gradient_accumulation_steps × " +
             $"NUM_GPUS = {opt.BatchSize} × {opt.GradientAccumulationSteps} × NUM_GPUS blocks of {run.CutoffLen} " +
             $"tokens; the kit's run (one device) takes {blocks}. With N GPUs, divide `--grad-accum` by N when " +
             "making the recipe to keep the kit's batch (and so its number of steps).");
        Line();

        Line("## Flags and the kit settings they come from");
        Line();
        Line("| LLaMA-Factory flag | value | kit setting |");
        Line("| --- | --- | --- |");
        foreach (var flag in LlamaFactoryRecipe.Flags(options))
            Line($"| `{flag.Flag}` | {(flag.Value is null ? "" : $"`{flag.Value}`")} | {flag.Source} |");
        Line();
        Para("Not set, so HF's defaults apply as in the kit: AdamW β = (0.9, 0.999), ε = 1e-8, no weight decay." +
             (stage2 || run.AdapterDir is not null
                 ? ""
                 : " Every layer's MLP is upcycled (`moe_every_k_layers` 1), as the kit's `train` does."));
        Line();

        Line("## What differs from the kit's run");
        Line();
        foreach (var difference in plan.Differences()) Para(difference, "- ", "  ");
        Line();

        Line("## Bring the adapter back");
        Line();
        Para($"`$OUTPUT_DIR` (default: `stage{stage}/` here) and each `checkpoint-N` in it hold " +
             "`adapter_config.json` (`peft_type` \"MOE\") and `adapter_model.safetensors` with the kit's own " +
             "key layout " +
             "(`base_model.model.model.layers.{i}.mlp.moe_router_embedding.weight`, " +
             "`…mlp.moe_experts.{j}.{gate,up,down}_proj.weight`), so the kit reads it as its own. LLaMA-Factory " +
             "saves the tokenizer there as well:");
        Line();
        string on = $"--model {Quote(model)} \\\n    --adapter {Quote(output)}";
        string datasets = $"--dataset {string.Join(",", run.Datasets)} \\\n    " +
                          $"--dataset-info {Quote(Path.GetFullPath(run.DatasetInfo))}";
        Line("```bash");
        Line($"moelpr eval {on} \\\n    {datasets}");
        Line($"moelpr routes {on} \\\n    {datasets} --output routes");
        if (!stage2)
            Line($"moelpr recipe --stage 2 {on} \\\n    --dataset NEW,OLD --output RECIPE2   " +
                 "# or: moelpr train --stage 2");
        Line("```");
        Line();
        Line("and in a notebook:");
        Line();
        Line("```csharp");
        var outputLiteral = JsonSerializer.Serialize(output, TrainingJson.Default.String);
        Line($"var (model, config) = ModelWithAdapter.Load(baseModelDir, {outputLiteral}, null);");
        Line("```");
        return text.ToString();
    }

    static string Quote(string text) => LlamaFactoryRecipe.Quote(text);

    /// <summary>
    /// <paramref name="prose"/> word-wrapped at <see cref="Width"/>: the first line starts with
    /// <paramref name="first"/>, the others with <paramref name="rest"/>; a word longer than a line stays whole.
    /// </summary>
    static string Wrap(string prose, string first, string rest)
    {
        var result = new StringBuilder();
        var line = new StringBuilder(first);
        bool empty = true;
        foreach (var word in prose.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            if (!empty && line.Length + 1 + word.Length > Width)
            {
                result.Append(line).Append('\n');
                line.Clear().Append(rest);
                empty = true;
            }
            if (!empty) line.Append(' ');
            line.Append(word);
            empty = false;
        }
        return result.Append(line).Append('\n').ToString();
    }
}
