// conduit-realtime-client.ts
import * as signalR from '@microsoft/signalr';
import { EventEmitter } from 'events';

export interface ConduitClientOptions {
    virtualKey: string;
    baseUrl?: string;
    maxReconnectAttempts?: number;
    enableLogging?: boolean;
}

export interface TaskResult {
    taskId: string;
    status: 'completed' | 'failed' | 'cancelled';
    imageUrl?: string;
    videoUrl?: string;
    error?: string;
    metadata?: Record<string, any>;
}

export interface ProgressUpdate {
    taskId: string;
    progress: number;
    message?: string;
    estimatedSecondsRemaining?: number;
}

export class ConduitRealtimeClient extends EventEmitter {
    private connection: signalR.HubConnection | null = null;
    private readonly options: Required<ConduitClientOptions>;
    private readonly activeTasks = new Map<string, { hubType: 'image' | 'video' }>();
    private reconnectTimer: NodeJS.Timeout | null = null;
    private isDisposed = false;

    constructor(options: ConduitClientOptions) {
        super();
        this.options = {
            baseUrl: 'https://api.conduit.im',
            maxReconnectAttempts: 5,
            enableLogging: false,
            ...options
        };
    }

    /**
     * Connect to a specific hub (image or video generation)
     */
    async connect(hubType: 'image' | 'video'): Promise<void> {
        if (this.isDisposed) {
            throw new Error('Client has been disposed');
        }

        const hubUrl = `${this.options.baseUrl}/hubs/${hubType}-generation`;
        
        const connectionBuilder = new signalR.HubConnectionBuilder()
            .withUrl(hubUrl, {
                accessTokenFactory: () => this.options.virtualKey,
                transport: signalR.HttpTransportType.WebSockets,
                skipNegotiation: true
            })
            .withAutomaticReconnect({
                nextRetryDelayInMilliseconds: (retryContext) => {
                    if (retryContext.previousRetryCount >= this.options.maxReconnectAttempts) {
                        return null; // Stop reconnecting
                    }
                    
                    // Exponential backoff with jitter
                    const baseDelay = Math.min(1000 * Math.pow(2, retryContext.previousRetryCount), 30000);
                    const jitter = Math.random() * 1000;
                    return baseDelay + jitter;
                }
            });

        if (this.options.enableLogging) {
            connectionBuilder.configureLogging(signalR.LogLevel.Information);
        }

        this.connection = connectionBuilder.build();
        this.setupEventHandlers();
        
        try {
            await this.connection.start();
            this.emit('connected', { hubType });
        } catch (error) {
            this.emit('error', { type: 'connection', error });
            throw error;
        }
    }

    /**
     * Subscribe to updates for a specific task
     */
    async subscribeToTask(taskId: string, taskType: 'image' | 'video'): Promise<void> {
        if (!this.connection || this.connection.state !== signalR.HubConnectionState.Connected) {
            throw new Error('Not connected to hub');
        }

        const methodName = taskType === 'image' ? 'SubscribeToTask' : 'SubscribeToRequest';
        
        try {
            await this.connection.invoke(methodName, taskId);
            this.activeTasks.set(taskId, { hubType: taskType });
            this.emit('subscribed', { taskId, taskType });
        } catch (error) {
            if ((error as any).message?.includes('already subscribed')) {
                // Already subscribed, not an error
                return;
            }
            this.emit('error', { type: 'subscription', taskId, error });
            throw error;
        }
    }

    /**
     * Unsubscribe from task updates
     */
    async unsubscribeFromTask(taskId: string): Promise<void> {
        if (!this.connection || this.connection.state !== signalR.HubConnectionState.Connected) {
            return;
        }

        const task = this.activeTasks.get(taskId);
        if (!task) return;

        const methodName = task.hubType === 'image' ? 'UnsubscribeFromTask' : 'UnsubscribeFromRequest';
        
        try {
            await this.connection.invoke(methodName, taskId);
            this.activeTasks.delete(taskId);
            this.emit('unsubscribed', { taskId });
        } catch (error) {
            // Log but don't throw - task might already be completed
            console.warn(`Failed to unsubscribe from ${taskId}:`, error);
        }
    }

    /**
     * Create an image and subscribe to updates
     */
    async generateImage(params: {
        model: string;
        prompt: string;
        size?: string;
        n?: number;
    }): Promise<string> {
        const response = await fetch(`${this.options.baseUrl}/v1/images/generations/async`, {
            method: 'POST',
            headers: {
                'Authorization': `Bearer ${this.options.virtualKey}`,
                'Content-Type': 'application/json'
            },
            body: JSON.stringify(params)
        });

        if (!response.ok) {
            const error = await response.json();
            throw new Error(error.error?.message || 'Image generation failed');
        }

        const result = await response.json();
        const taskId = result.task_id;

        // Auto-subscribe if connected
        if (this.connection?.state === signalR.HubConnectionState.Connected) {
            await this.subscribeToTask(taskId, 'image');
        }

        return taskId;
    }

    /**
     * Create a video and subscribe to updates
     */
    async generateVideo(params: {
        model: string;
        prompt: string;
        duration?: number;
        size?: string;
    }): Promise<string> {
        const response = await fetch(`${this.options.baseUrl}/v1/videos/generations/async`, {
            method: 'POST',
            headers: {
                'Authorization': `Bearer ${this.options.virtualKey}`,
                'Content-Type': 'application/json'
            },
            body: JSON.stringify(params)
        });

        if (!response.ok) {
            const error = await response.json();
            throw new Error(error.error?.message || 'Video generation failed');
        }

        const result = await response.json();
        const taskId = result.request_id;

        // Auto-subscribe if connected
        if (this.connection?.state === signalR.HubConnectionState.Connected) {
            await this.subscribeToTask(taskId, 'video');
        }

        return taskId;
    }

    /**
     * Disconnect and clean up resources
     */
    async disconnect(): Promise<void> {
        this.isDisposed = true;
        
        if (this.reconnectTimer) {
            clearTimeout(this.reconnectTimer);
        }

        if (this.connection) {
            // Unsubscribe from all tasks
            for (const taskId of this.activeTasks.keys()) {
                await this.unsubscribeFromTask(taskId);
            }

            await this.connection.stop();
            this.connection = null;
        }

        this.removeAllListeners();
    }

    private setupEventHandlers(): void {
        if (!this.connection) return;

        // Task/Request progress
        this.connection.on('TaskProgress', (taskId: string, progress: number) => {
            this.handleProgress(taskId, progress);
        });

        this.connection.on('RequestProgress', (requestId: string, progress: number) => {
            this.handleProgress(requestId, progress);
        });

        // Task/Request completion
        this.connection.on('TaskCompleted', (taskId: string, result: any) => {
            this.handleCompletion(taskId, result);
        });

        this.connection.on('RequestCompleted', (requestId: string, result: any) => {
            this.handleCompletion(requestId, result);
        });

        // Task/Request failure
        this.connection.on('TaskFailed', (taskId: string, error: string) => {
            this.handleFailure(taskId, error);
        });

        this.connection.on('RequestFailed', (requestId: string, error: string) => {
            this.handleFailure(requestId, error);
        });

        // Connection lifecycle
        this.connection.onreconnecting((error) => {
            this.emit('reconnecting', { error });
        });

        this.connection.onreconnected(async (connectionId) => {
            this.emit('reconnected', { connectionId });
            await this.resubscribeToActiveTasks();
        });

        this.connection.onclose((error) => {
            this.emit('disconnected', { error });
            
            if (!this.isDisposed && error) {
                // Attempt manual reconnection after delay
                this.reconnectTimer = setTimeout(() => {
                    this.reconnect();
                }, 5000);
            }
        });
    }

    private handleProgress(taskId: string, progress: number): void {
        const update: ProgressUpdate = {
            taskId,
            progress
        };
        this.emit('progress', update);
    }

    private handleCompletion(taskId: string, result: any): void {
        const taskResult: TaskResult = {
            taskId,
            status: 'completed',
            imageUrl: result.image_url,
            videoUrl: result.video_url,
            metadata: result.metadata
        };
        
        this.emit('completed', taskResult);
        this.activeTasks.delete(taskId);
    }

    private handleFailure(taskId: string, error: string): void {
        const taskResult: TaskResult = {
            taskId,
            status: 'failed',
            error
        };
        
        this.emit('failed', taskResult);
        this.activeTasks.delete(taskId);
    }

    private async resubscribeToActiveTasks(): Promise<void> {
        const tasks = Array.from(this.activeTasks.entries());
        
        for (const [taskId, { hubType }] of tasks) {
            try {
                await this.subscribeToTask(taskId, hubType);
            } catch (error) {
                console.error(`Failed to resubscribe to ${taskId}:`, error);
                this.activeTasks.delete(taskId);
            }
        }
    }

    private async reconnect(): Promise<void> {
        if (this.isDisposed || !this.connection) return;

        try {
            await this.connection.start();
        } catch (error) {
            this.emit('error', { type: 'reconnection', error });
            
            // Try again
            if (!this.isDisposed) {
                this.reconnectTimer = setTimeout(() => {
                    this.reconnect();
                }, 10000);
            }
        }
    }
}
