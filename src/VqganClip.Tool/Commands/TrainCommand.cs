using System.CommandLine;
using VqganClip.Tool.Commands.Train;

namespace VqganClip.Tool.Commands;

/// <summary>
/// <c>vqgan-clip train &lt;what&gt;</c>: trains the toolkit's own small models on the procedural clipart
/// world. One subcommand per model, each in Commands/Train/.
/// </summary>
public static class TrainCommand
{
    public static Command Create() => new("train", "Train the toolkit's own small models on the procedural clipart world")
    {
        TrainJudgeCommand.Create(),
        TrainVqganCommand.Create(),
        TrainClipCommand.Create(),
        TrainTransformerCommand.Create(),
        TrainBigGanCommand.Create(),
        TrainPix2PixCommand.Create(),
        TrainStyleGanCommand.Create(),
        TrainAudioClipCommand.Create(),
    };
}
